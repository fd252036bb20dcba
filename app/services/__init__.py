"""Domain rules that span resources."""
