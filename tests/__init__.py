"""The test suite (a package, so that `tests.crawling` is ours even where a dependency ships a `tests`)."""
