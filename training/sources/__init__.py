"""One loader per data source; each returns list[Example]."""
