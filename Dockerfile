# The crawler's image, for Zyte Scrapy Cloud (`shub deploy`, see scrapinghub.yml) and for anyone who runs
# it with Docker. Scrapy Cloud stacks cannot install a browser with pip, hence a custom image.
#
# Scrapy Cloud starts each job with `start-crawl` (and reads the spiders with `shub-image-info`), both from
# scrapinghub-entrypoint-scrapy in requirements-image.txt, as user `nobody` in /scrapinghub, with HOME set
# to that directory and wiped: so no ENTRYPOINT (it would swallow those commands), and nothing the crawler
# needs lives under a home directory. The browser is Debian's Chromium, installed system-wide.
FROM python:3.13-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SCRAPY_SETTINGS_MODULE=newhomie.settings \
    NEWHOMIE_CHROMIUM=/usr/bin/chromium

RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The pinned requirements first, so that a code change does not reinstall them: the crawler's run-time
# pins (requirements.txt, which requirements-image.txt includes) and Scrapy Cloud's entry points. No test
# or development tool: those are in requirements-dev.txt, for .venv only.
COPY requirements.txt requirements-image.txt /app/
RUN pip install -r requirements-image.txt
COPY pyproject.toml README.md /app/
COPY newhomie /app/newhomie
RUN pip install --no-deps .

# Self-hosting: `docker run --rm -e NEWHOMIE_DATABASE_URL newhomie scrapy crawl listings -a ...`;
# without a command it lists the spiders, which checks the image.
CMD ["scrapy", "list"]
