"""Project commands for `scrapy` (COMMANDS_MODULE): `crawl` with preflight checks."""
