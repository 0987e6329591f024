"""Collection activities (催收记录), evidence files, promises to pay and disputes."""
