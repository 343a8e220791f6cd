"""`python -m newhomie renormalise`: today's price normaliser over the price texts already stored,
so a better parser repairs old rows (listings and their price history) without a new crawl."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg2.extensions
import psycopg2.extras

from newhomie import sql
from newhomie.site.prices import Price, exact_sold_price, normalise_price
from newhomie.store.connection import connection, transaction


@dataclass
class RenormaliseReport:
    """What `renormalise` looked at and what it changed (or would change, on a dry run)."""

    listings_checked: int = 0
    listings_changed: int = 0
    history_checked: int = 0
    history_changed: int = 0
    dry_run: bool = False

    def describe(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        return (
            f"{self.listings_checked} listings checked, {self.listings_changed} {verb}; "
            f"{self.history_checked} price history rows checked, {self.history_changed} {verb}"
        )


def _price_pair(price: Price | None) -> tuple[int | None, int | None]:
    return (None, None) if price is None else (price.low, price.high)


def _renormalised_chunk(
    listings: list[tuple[Any, ...]], history: list[tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The listing and history rows of one chunk whose normalised prices differ from today's parser's.

    A listing's price follows its current text, as the upsert does. Its sold price is the one exact
    price of its latest sold-type text that gives one: the upsert keeps an old sold price when a new
    text gives none, and every sold-type text is in the history.
    """
    history_changes = []
    sold_texts: dict[int, list[str]] = {}
    for row_id, listing_id, listing_type, text, low, high in history:
        pair = _price_pair(normalise_price(listing_type, text))
        if pair != (low, high):
            history_changes.append((row_id, text, *pair))
        if listing_type == "sold":
            sold_texts.setdefault(listing_id, []).append(text)  # oldest first (ordered by id)
    listing_changes = []
    for listing_id, listing_type, text, low, high, sold_price in listings:
        price = normalise_price(listing_type, text)
        new_sold = None
        if listing_type == "sold":
            texts = [text] if text else []
            texts += reversed(sold_texts.get(listing_id, []))
            new_sold = next((s for t in texts if (s := exact_sold_price(normalise_price("sold", t)))), None)
        new = (*_price_pair(price), new_sold if listing_type == "sold" else sold_price)
        if new != (low, high, sold_price):
            listing_changes.append((listing_id, text, *new))
    return listing_changes, history_changes


def renormalise(url: str, *, chunk_size: int = 2000, dry_run: bool = False) -> RenormaliseReport:
    """Re-run the price normaliser over every stored price text; fix listings and their history.

    Works in chunks of listings, each its own short transaction that locks its listings in id order
    (as the crawl's writer does), so it can run while a crawl writes. Rows whose text changed since
    they were read are left alone: the crawl wrote them with today's parser anyway.
    """
    report = RenormaliseReport(dry_run=dry_run)
    with connection(url, application_name="newhomie-renormalise") as conn:
        after = 0
        while True:
            with transaction(conn) as cur:
                cur.execute(sql.query("next_listing_ids"), {"after": after, "limit": chunk_size})
                ids = [row[0] for row in cur.fetchall()]
            if not ids:
                break
            _renormalise_ids(conn, ids, report, dry_run)
            after = ids[-1]
    return report


def _renormalise_ids(
    conn: psycopg2.extensions.connection, ids: list[int], report: RenormaliseReport, dry_run: bool
) -> None:
    """One chunk in one transaction; run again if the database rolls it back to break a deadlock."""
    for attempt in range(1, 4):
        try:
            with transaction(conn) as cur:
                cur.execute(sql.query("lock_listing_prices"), {"ids": ids})
                listings = cur.fetchall()
                cur.execute(sql.query("select_history_prices"), {"ids": ids})
                history = cur.fetchall()
                listing_changes, history_changes = _renormalised_chunk(listings, history)
                changed = [len(listing_changes), len(history_changes)]
                if dry_run:
                    conn.rollback()
                else:
                    for index, (name, rows) in enumerate(
                        [("renormalise_listing_prices", listing_changes),
                         ("renormalise_history_prices", history_changes)]
                    ):  # fmt: skip
                        if rows:
                            # One statement, so rowcount counts the rows really changed.
                            psycopg2.extras.execute_values(cur, sql.query(name), rows, page_size=len(rows))
                            changed[index] = cur.rowcount
            break
        except psycopg2.extensions.TransactionRollbackError:
            if attempt == 3:
                raise
            time.sleep(0.1 * attempt)
    report.listings_checked += len(listings)
    report.history_checked += len(history)
    report.listings_changed += changed[0]
    report.history_changed += changed[1]
