"""The downloader middlewares, in DOWNLOADER_MIDDLEWARES order (they live in `newhomie.browser`):

- PageContextMiddleware (50): renders every page in the browser, waiting only for what is read;
  drops requests left in a JOBDIR queue by an earlier, interrupted run;
- PaceMiddleware (540): holds every request while the site asked us to wait (Retry-After) or
  while blocks are backed off, so that a run of blocks slows the whole crawl;
- ChallengeMiddleware (560): tells a page that passed the in-browser challenge from a block page;
  a block is retried in a fresh browser context after the back-off;
- BrowserFailureMiddleware (570): a hang or crash restarts the browser; the page is tried again.
"""

from newhomie.browser.challenge import ChallengeMiddleware
from newhomie.browser.failures import BrowserFailureMiddleware
from newhomie.browser.pace import PaceMiddleware
from newhomie.browser.rendering import PageContextMiddleware

__all__ = ["BrowserFailureMiddleware", "ChallengeMiddleware", "PaceMiddleware", "PageContextMiddleware"]
