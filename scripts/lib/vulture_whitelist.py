"""Names the unused-code check (vulture, run by scripts/test) cannot see used: fields that
serialisation, a library or a config file reads. Parsed by vulture, never run. Keep it short:
an entry needs a reason a reader can check."""

import logging

from grafanalib.core import TimeSeries

from padtec_exporter.notify.messages import Notification
from padtec_exporter.rulegen.thresholds import Override
from padtec_exporter.web.config import HttpServerConfig

logging.LogRecord.msg  # set by logs.UrlSecretFilter; logging formats it
Notification.groupLabels  # a field of Alertmanager's webhook payload (decoded, documented)
Override.card_serial  # a thresholds.yml key, read by name through SCOPE_LABELS
HttpServerConfig.http2  # an exporter-toolkit web config key, accepted for compatibility
TimeSeries.extraJson  # grafanalib merges it into the panel JSON
