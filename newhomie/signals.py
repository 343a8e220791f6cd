"""The crawler's own Scrapy signals, for extensions (metrics, reports) to listen to.

Sent with `crawler.signals.send_catch_log(signal, **kwargs)` from the reactor thread.
"""

#: A locality of the crawl ended. kwargs: locality (str, "Dandenong VIC 3175"), slug (str),
#: status ("done" | "not_found" | "failed"), seconds (float, first request to last answer),
#: pages (int), listings (int), errors (int), attempt (int, 1 or 2).
locality_finished = object()

#: A batch of rows reached the database. kwargs: rows (int, written), rejected (int), seconds (float).
db_batch_written = object()

#: The browser was closed to be replaced by a fresh one. kwargs: reason (str).
browser_restarted = object()

#: Something failed in a way that points at the browser (hang, crash): replace it.
#: kwargs: reason (str), generation (int | None: the browser generation the failure was seen on).
browser_restart_requested = object()

#: Bot protection answered instead of the site. kwargs: retry_after (float | None, seconds the
#: site asked to wait), url (str). The politeness middleware slows the whole crawl.
page_blocked = object()
