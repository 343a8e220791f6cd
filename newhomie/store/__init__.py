"""The database: which one, its schema, and every write and read of the crawl's data.

- `target`: the database in use (NEWHOMIE_DATABASE_URL, Scrapy Cloud's setting, or the embedded one);
- `embedded`: the embedded PostgreSQL started on demand under NEWHOMIE_HOME, and its status;
- `pg_cluster`: a data folder and its server (initdb, start, stop, a stale postmaster.pid);
- `leases`, `keeper`: which commands use the embedded server, and the process that stops it when idle;
- `pg_upgrade`: an embedded database of an older PostgreSQL carried over;
- `redact`: database URLs and connection strings with their secrets masked, for every line that names one;
- `connection`: `connection(url)` and `transaction(conn)`, the one way to talk to it;
- `migrations`: the numbered migrations of `newhomie/sql/migrations`, applied once each;
- `rows`: every item as the rows of the named statements that store it;
- `writer`: the batch writer thread those rows go through;
- `pipeline`: the Scrapy item pipeline that feeds the writer and records the run;
- `crawls`, `localities`: what a crawl reads back (what it finished; the locality list);
- `renormalise`: today's price parser over the stored price texts.

It imports `newhomie.sql` (the statements), `newhomie.items` and the pure parts of `newhomie.site` and
`newhomie.localities`; nothing in it knows Scrapy but `pipeline`.
"""
