"""Wires settings to the engine and the services; the one place objects are assembled.

The web app, the worker and the CLI all build a `Runtime`, so they share exactly the same
services and configuration.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Engine

from .booknetic import Booknetic
from .campaigns import CampaignService
from .config import Settings
from .dashboard import Dashboard
from .db import make_engine
from .deliveries import DeliveryService
from .delivery_log import DeliveryLog
from .message_templates import TemplateService
from .migrations import check_not_newer
from .oneoff import OneOffService
from .opt_outs import OptOutService
from .outbox import Outbox
from .outcomes import Attribution
from .outcomes.report import ReportService
from .phone_region import RegionResolver
from .public_url import PublicUrls
from .schedules import CampaignSchedules
from .schema import SmsTables, migrate, sms_tables
from .segments import SegmentService
from .suppressions import SuppressionService
from .tenant_settings import SettingsService


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    booknetic: Booknetic
    tables: SmsTables
    segments: SegmentService
    campaigns: CampaignService
    outbox: Outbox
    templates: TemplateService
    suppressions: SuppressionService
    oneoff: OneOffService
    logs: DeliveryLog
    dashboard: Dashboard
    regions: RegionResolver
    tenant_settings: SettingsService  # each tenant's §11 settings (tenant_settings.py)
    schedules: CampaignSchedules  # scheduled sends (schedules.py)
    deliveries: DeliveryService
    public_urls: PublicUrls
    attribution: Attribution  # attributed bookings (outcomes/attribution.py)
    reports: ReportService  # campaign reports (outcomes/report.py)
    opt_outs: OptOutService
    clock: Callable[[], float] = field(default=time.time)
    # The tenant's price per SMS segment (DESIGN.md §11 `price_per_segment`) for the render
    # report's estimated cost, None when unknown: the tenant settings answer it (build()).
    segment_price: Callable[[int | None], Decimal | None] = field(default=lambda _tenant: None)

    @classmethod
    def build(cls, settings: Settings, *, engine: Engine | None = None,
              clock: Callable[[], float] = time.time, auto_migrate: bool = True) -> Runtime:
        engine = engine or make_engine(settings.database_url)
        if auto_migrate:
            migrate(engine, settings.table_prefix)  # refuses a database a newer version made
        else:
            check_not_newer(engine, settings.table_prefix)
        booknetic = Booknetic(engine, settings.table_prefix)
        tables = sms_tables(settings.table_prefix)
        tenant_settings = SettingsService(engine, tables, clock=clock)
        regions = RegionResolver(booknetic, override=settings.default_country,
                                 tenant_setting=tenant_settings.default_country)
        segments = SegmentService(booknetic, tables, regions=regions, clock=clock)
        public_urls = PublicUrls(settings, booknetic)
        outbox = Outbox(engine, tables, booknetic, settings, clock=clock,
                        public_urls=public_urls)
        campaigns = CampaignService(engine, tables, segments, clock=clock,
                                    check_provider=outbox.provider, on_pause=outbox.paused,
                                    settings_for=tenant_settings.for_tenant)
        # Every queue run ends by refreshing the campaigns whose attribution window is open.
        attribution = Attribution(tables, booknetic, segments, tenant_settings.for_tenant,
                                  clock=clock)
        outbox.after_run.append(attribution.refresh_open)
        schedules = CampaignSchedules(engine, tables, campaigns, zone_of=booknetic.business_zone,
                                      clock=clock)
        outbox.before_run = schedules.start_due
        return cls(
            settings, engine, booknetic, tables, segments, campaigns, outbox,
            templates=TemplateService(engine, tables, clock=clock),
            suppressions=SuppressionService(engine, tables, regions=regions, clock=clock),
            oneoff=OneOffService(engine, tables, booknetic, segments, outbox.provider,
                                 regions=regions, clock=clock),
            logs=DeliveryLog(engine, tables),
            dashboard=Dashboard(engine, tables, clock=clock),
            regions=regions,
            tenant_settings=tenant_settings,
            schedules=schedules,
            deliveries=DeliveryService(outbox),
            public_urls=public_urls,
            attribution=attribution,
            reports=ReportService(engine, tables, default_days=lambda tenant: (
                tenant_settings.for_tenant(tenant).attribution_days)),
            opt_outs=OptOutService(engine, tables, booknetic, segments, regions=regions,
                                   clock=clock),
            clock=clock,
            segment_price=lambda tenant: tenant_settings.for_tenant(tenant).price_per_segment,
        )

    def close(self) -> None:
        self.outbox.close()
        self.engine.dispose()
