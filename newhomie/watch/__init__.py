"""What watches the crawl: its log lines, its summary and health verdict, its metrics, its report.

- `logs`: every log line about a page carries its locality, stage and URL; JSON lines on demand;
- `summary`: the run's summary and health verdict at close (`RunSummary`), pure `summarise` and `judge`;
- `metrics`: Prometheus metrics of the crawl (`PrometheusExporter`: Pushgateway, textfile, /metrics);
- `report`: one crawl run as a self-contained HTML page, read from the database.

Extensions and readers only: nothing of the crawl depends on this package. It imports `newhomie.store`
(the report's data, the redaction of database URLs), `newhomie.signals` and `newhomie.site.prices`.
"""
