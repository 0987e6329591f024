"""First-responsible persons (第一责任人): assignment history, hand-overs, leaders, lifetime
responsibility (DOMAIN §4, 第十条/第十四条)."""
