"""The `product` and `creator` command groups: canonical products across sources, creators (docs/PRODUCTS.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from indexer.cli import common
from indexer.cli.common import FormatOption, JsonAlias, NowOption, WindowOption, as_of, fail, spec, state
from indexer.terminal import emit, lines, print_json, show
from indexer.workflows.errors import HANDLED, exit_code_for
from indexer.workflows.views import choose_format

product_app = typer.Typer(
    help="Canonical products: one product across sources and platforms, grouped by evidence, with overrides.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
CurrencyOption = Annotated[
    str | None,
    typer.Option(
        "--currency", help="Also show prices in this ISO 4217 currency (ECB reference rate, dated)."
    ),
]


def product_command(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """`product_app.command(name)` with the library errors mapped as `command` does."""

    def register(func: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                func(*args, **kwargs)
            except HANDLED as exc:
                fail(str(exc), exit_code_for(exc))

        return product_app.command(name)(run)

    return register


@product_command("list")
def product_list(fmt: FormatOption = None, as_json: JsonAlias = False) -> None:
    """List every canonical product: id, title, members (the source product ids), platforms, confidence.

    New or changed product offers are grouped first (incremental; the model embeds their titles).

    Example: trendcart product list --json
    """
    from indexer.workflows.products import list_products
    from indexer.workflows.views import products_table

    output = choose_format(fmt, as_json)
    found = list_products(spec(), state.model, common.get_embedder())
    emit(output, found, lambda: show(products_table(found)))


@product_command("show")
def product_show(
    ident: str = typer.Argument(..., help="A canonical product id (cp-...) or the id of one of its offers."),
    currency: CurrencyOption = None,
    window: WindowOption = "7d",
    now: NowOption = None,
    top_kol: int = typer.Option(
        1_000_000, "--top-kol-followers", min=1, help="FACT: followers from which a creator is a top KOL."
    ),
    field_account: Annotated[
        list[str] | None,
        typer.Option(
            "--field-account", help="FACT: a creator id or name that is the brand's own (repeatable)."
        ),
    ] = None,
    campaigns: Path | None = typer.Option(
        None,
        "--campaigns",
        help="FACT: a TOML file of [[campaign]] name/start/end/tags added to the calendar.",
    ),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Show one canonical product: members with match evidence, linking videos and lives with their share
    of the gain, prices, sales, and the FACT breakdown (field, alliance, top_kol; campaign) in the window.

    Example: trendcart product show douyin:product:777 --currency CNY --window 7d
    """
    from indexer.workflows.products import FactOptions, show_product
    from indexer.workflows.views import product_lines

    output = choose_format(fmt, as_json)
    options = FactOptions(top_kol, tuple(field_account or ()), str(campaigns) if campaigns else None)
    shown = show_product(
        spec(),
        ident,
        state.model,
        common.get_embedder(),
        currency.upper() if currency else None,
        window,
        as_of(now),
        options,
    )
    emit(output, shown, lambda: lines(product_lines(shown)))


@product_command("merge")
def product_merge(
    first: str = typer.Argument(..., help="A canonical product id or an offer id."),
    second: str = typer.Argument(..., help="Another one, to join with the first for good."),
) -> None:
    """Merge two canonical products into one; the override survives re-crawls (kept beside the store).

    Example: trendcart product merge tiktok:product:555 douyin:product:777
    """
    from indexer.workflows.products import merge_products

    print_json(merge_products(spec(), first, second, state.model, common.get_embedder()))


@product_command("split")
def product_split(
    ident: str = typer.Argument(
        ..., help="An offer id (taken out of its product) or a canonical id (all apart)."
    ),
) -> None:
    """Split an offer out of its canonical product (or a whole product apart); it survives re-crawls.

    Example: trendcart product split youtube:product:shelf-1
    """
    from indexer.workflows.products import split_product

    print_json(split_product(spec(), ident, state.model, common.get_embedder()))


creator_app = typer.Typer(
    help="Creators: tier by followers, follower growth, the products they push, their videos and lives.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@creator_app.command("show")
def creator_show(
    ident: str = typer.Argument(..., help="The creator's id, name or handle (case-insensitive, @ ignored)."),
    fmt: FormatOption = None,
    as_json: JsonAlias = False,
) -> None:
    """Show one creator: tier (top >= 1M followers, mid, micro, nano), followers over time, their videos and
    lives, and the products they push.

    Example: trendcart creator show @lily --json
    """
    from indexer.workflows.creators import show_creator
    from indexer.workflows.views import creator_lines

    try:
        output = choose_format(fmt, as_json)
        shown = show_creator(spec(), ident, state.model)
    except HANDLED as exc:
        fail(str(exc), exit_code_for(exc))
    emit(output, shown, lambda: lines(creator_lines(shown)))
