"""``advisor catalog info|show|refresh``: the bundled price and instance catalog, and rebuilding it from AWS."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from advisor.cli.floor import command_group, console, print_json
from advisor.cli.options import Format, FormatOpt
from advisor.errors import AdvisorError, ConfigError
from advisor.safetext import markup
from advisor.store.paths import user_catalog_dir

app = command_group("The bundled price and instance catalog.\n\nExample: advisor catalog show m5.xlarge")

# The catalog (pandas) and boto3 load when a command runs, not at start-up.


@app.command("info")
def catalog_info(output_format: FormatOpt = Format.table) -> None:
    """Show the catalog's price-list date, sources with their dates and counts; warn about a price source older
    than [catalog] max_age_days (180).

    Example: advisor catalog info
    """
    from advisor.catalog import load_catalog
    from advisor.config import load_config

    info = load_catalog().info(max_age_days=load_config().settings.catalog.max_age_days)
    if output_format is not Format.json:
        for warning in info["warnings"]:
            console().print(f"[yellow]warning:[/] {markup(warning)}", highlight=False)
    _show(info, output_format)


@app.command("show")
def catalog_show(instance_type: Annotated[str, typer.Argument(help="An EC2 or SageMaker type, e.g. g5.xlarge.")],
                 region: Annotated[str | None, typer.Option("--region", "-r", help="Only this region's price.")]
                 = None, output_format: FormatOpt = Format.table) -> None:
    """Show one instance type's specs and prices.

    Example: advisor catalog show g4dn.xlarge --region us-east-1
    """
    from advisor.catalog import load_catalog

    _show(load_catalog().describe(instance_type, region), output_format)


@app.command("refresh")
def catalog_refresh(
    region: Annotated[list[str] | None, typer.Option("--region", "-r", help="Region to refresh; repeatable; "
                                                     "'all' = every region of the current catalog. "
                                                     "Default: the profile's region.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile (default: the standard credential "
                                                "chain).")] = None,
) -> None:
    """Rebuild the local catalog from the AWS Price List and EC2 APIs; it is then preferred over the bundled one.

    Example: advisor catalog refresh --region us-east-1 --region eu-west-1
    """
    from botocore.exceptions import BotoCoreError, ClientError

    from advisor.catalog import load_catalog
    from advisor.catalog.refresh import PRICING_REGION, refresh_catalog
    from advisor.sources.aws.session import AwsOptions, base_session, client_config, describe_error

    options = AwsOptions(profile=profile)
    session, config = base_session(options), client_config(options)
    regions = list(region or ([session.region_name] if session.region_name else []))
    if not regions:
        raise ConfigError("no AWS region: pass --region (repeatable, or 'all') or set AWS_REGION")
    if "all" in regions:
        regions = load_catalog().regions
    try:
        path = refresh_catalog(lambda name: session.client("ec2", region_name=name, config=config),
                               session.client("pricing", region_name=PRICING_REGION, config=config),
                               regions, user_catalog_dir())
    except (ClientError, BotoCoreError) as exc:
        raise AdvisorError(f"catalog refresh failed, the catalog in use is unchanged: {describe_error(exc)}") \
            from exc
    info = load_catalog().info()
    console().print(f"Catalog refreshed for {', '.join(regions)}: {path} (price list {info['price_list_date']}, "
                    f"{info['counts']['priced_rows']} priced rows); `advisor catalog info` shows it is in use.",
                    highlight=False)


def _show(data: dict[str, Any], output_format: Format) -> None:
    if output_format is Format.json:
        print_json(data)
    else:
        _print_mapping(data)


def _print_mapping(data: Any, indent: int = 0) -> None:
    pad = "  " * indent
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict | list):
                console().print(f"{pad}[bold]{markup(str(key))}[/]:")
                _print_mapping(value, indent + 1)
            else:
                console().print(f"{pad}[bold]{markup(str(key))}[/]: {markup(str(value))}", highlight=False)
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                console().print(f"{pad}-")
                _print_mapping(item, indent + 1)
            else:
                console().print(f"{pad}- {markup(str(item))}", highlight=False)
    else:
        console().print(f"{pad}{markup(str(data))}", highlight=False)
