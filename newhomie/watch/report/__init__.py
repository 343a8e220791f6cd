"""`python -m newhomie report [--run ID] --out report.html`: one crawl run as a self-contained HTML page.

The page opens offline and runs nothing: its charts are SVG drawn here, its styles inline, and a
Content-Security-Policy forbids scripts and fetches, so that even a hostile price text or error
message that slipped past escaping could not act. Every text from the database is escaped: price
texts and error messages are whatever the site or the network sent. URLs are shown as text, never
made links (a `javascript:` URL in an href would be a script).

Two layers. `data.load_report_data` runs the named queries of `sql/queries/report.sql` in one
read-only snapshot into a `ReportData` of plain values; everything after it (`figures`, `svg`, `text`,
`page`) is pure (data in, HTML/SVG strings out) and testable without a database. A figure comes from
the run's `summary` when it has one; otherwise (an older run, a run that died at once) it is computed
from the tables or taken from Scrapy's stats, and the page says which.
"""
