"""Events the platform tells other systems about, and their signed delivery
by webhook (docs/integrations.md)."""
