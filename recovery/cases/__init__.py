"""Recovery cases (清欠案件), their strategies (第十六条) and the approvals those need."""
