# What ducto watches, as data: the log-based metrics over the JSON lines the code writes
# (src/app.ts: one per batch written, per rejected message and per API request), the SLOs, the alert policies (SRE Workbook burn rates, and direct alerts where an SLO
# is the wrong tool) and the dashboards. modules/monitoring turns it into resources. Every name a
# filter matches (services, subscriptions, gateways, metric types, SLOs) is an input taken from the
# resource that owns it, so no filter can drift from what was created.

locals {
  runbook = var.runbook_base_url
  metric  = var.log_metric_types

  # --- log-based metrics: project-wide; each system's series carry its service name -------------
  batch_filter    = "resource.type=\"cloud_run_revision\" AND jsonPayload.message=\"batch written\""
  rejected_filter = "resource.type=\"cloud_run_revision\" AND jsonPayload.message=\"message rejected\""
  request_filter  = "resource.type=\"cloud_run_revision\" AND jsonPayload.message=\"request\""
  # Explicit bucket bounds, each equal to the bounds of the Prometheus histogram of src/metrics.ts
  # that measures the same thing (seconds there, times 1000 here): an SLO threshold that is a bound
  # is then exact in both worlds, never interpolated inside a bucket (test/infra-monitoring.test.ts).
  bounds = {
    # ducto_api_request_duration_seconds
    api_ms = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    # ducto_warehouse_write_seconds
    write_ms = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
    # ducto_ingest_batch_size
    rows = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
  }
  log_metric_defs = {
    ingest-rows-stored = {
      description = "Rows stored per batch, by dataset (sum it for the stored outcome)."
      filter      = local.batch_filter
      value       = "EXTRACT(jsonPayload.batch.stored)"
      bounds      = local.bounds.rows
      labels      = { dataset = "EXTRACT(jsonPayload.batch.dataset)" }
    }
    # One log line per rejected message (src/app.ts): the bad events of the correctness SLI.
    ingest-messages-rejected = {
      description = "Messages ingest rejected (kept in <dataset>_rejected), one log line each, by dataset and reason code."
      filter      = local.rejected_filter
      value       = null
      bounds      = null
      labels = {
        code    = "EXTRACT(jsonPayload.code)"
        dataset = "EXTRACT(jsonPayload.rejected.dataset)"
      }
    }
    batch-write-latency = {
      description = "Warehouse write time of a batch in milliseconds, by dataset."
      filter      = local.batch_filter
      value       = "EXTRACT(jsonPayload.batch.durationMs)"
      bounds      = local.bounds.write_ms
      labels      = { dataset = "EXTRACT(jsonPayload.batch.dataset)" }
    }
    api-requests = {
      description = "API requests by route, status and error code."
      filter      = local.request_filter
      value       = null
      bounds      = null
      labels = {
        code   = "EXTRACT(jsonPayload.code)"
        route  = "EXTRACT(jsonPayload.request.route)"
        status = "EXTRACT(jsonPayload.request.status)"
      }
    }
    warehouse-errors = {
      description = "Failed warehouse calls: batch writes left for redelivery and API reads answered 503."
      filter      = "resource.type=\"cloud_run_revision\" AND jsonPayload.code=\"warehouse_unavailable\""
      value       = null
      bounds      = null
      labels      = {}
    }
    # `cache` is hit, miss or shared on a JSON answer served through the response cache (200 or
    # 304), and empty on everything else: errors, CSV/NDJSON streams, ops routes.
    api-request-latency = {
      description = "API request duration in milliseconds, by route and cache result (hit, miss, shared; empty when no cache lookup answered)."
      filter      = local.request_filter
      value       = "EXTRACT(jsonPayload.request.durationMs)"
      bounds      = local.bounds.api_ms
      labels = {
        cache = "EXTRACT(jsonPayload.request.cache)"
        route = "EXTRACT(jsonPayload.request.route)"
      }
    }
  }
  # A counter without a value extractor, a distribution with one and explicit bucket bounds (what
  # Cloud Logging accepts).
  log_metrics = {
    for k, m in local.log_metric_defs : k => merge(m, {
      kind       = "DELTA"
      value_type = m.value == null ? "INT64" : "DISTRIBUTION"
      unit       = endswith(k, "latency") ? "ms" : "1"
    })
  }

  # The API SLOs count consumer traffic only: /healthz, /readyz, /metrics and /openapi.json are left out.
  v1_routes = "metric.labels.route=starts_with(\"/v1/\")"
  # The latency SLIs, by whether the answer read the warehouse. A cache result exists only on a
  # JSON answer that succeeded (200 or 304): errors (4xx are the client's, 5xx count against
  # availability) and streams (their duration grows with the rows asked for) are in neither.
  cache_hit     = "metric.labels.cache=\"hit\""
  cache_reading = "metric.labels.cache=one_of(\"miss\",\"shared\")"

  # --- per-system filters, from the names the system module reports ------------------------------
  quoted = { for s, v in var.systems : s => [for x in v.subscriptions : "\"${x}\""] }
  sys = {
    for s, v in var.systems : s => {
      api_run     = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${v.api_service}\""
      ingest_run  = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${v.ingest_service}\""
      both_run    = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=one_of(\"${v.api_service}\",\"${v.ingest_service}\")"
      subs        = "resource.type=\"pubsub_subscription\" AND resource.labels.subscription_id=one_of(${join(",", local.quoted[s])})"
      gateway     = "resource.type=\"apigateway.googleapis.com/Gateway\" AND resource.labels.gateway_id=\"${v.gateway_id}\""
      api_metrics = "metric.type=\"${local.metric["api-requests"]}\""
    }
  }

  # --- SLOs ---------------------------------------------------------------------------------------
  # `pages`: whether the SLO's fast and medium burn rates page (else every burn rate is a ticket).
  # Correctness never pages: a rejected message is a producer's bug, kept in <dataset>_rejected.
  # Warehouse latency does not page while its threshold is an estimate: a page on an unmeasured
  # bound would wake someone for BigQuery being as slow as it always is.
  # Freshness reads the push subscription's backlog: the objective is for push delivery, as
  # deployed. The local freshness figures (bench/results/latest.json, results.freshness) come from
  # the emulator in pull mode (streaming pull) and a direct push without a broker, never from
  # Pub/Sub's push, so they say nothing about this bound.
  slo_specs = {
    api-availability      = { alert = "DuctoApiAvailability", goal = 0.999, pages = true, display = "API availability: 99.9% of /v1 requests not 5xx over 28 days" }
    api-latency-cached    = { alert = "DuctoApiLatencyCached", goal = 0.99, pages = true, display = "API latency, cache hits: 99% of /v1 cached answers within ${var.api_cached_latency_threshold_ms} ms over 28 days" }
    api-latency-warehouse = { alert = "DuctoApiLatencyWarehouse", goal = 0.95, pages = false, display = "API latency, warehouse reads: 95% within ${var.api_warehouse_latency_threshold_ms} ms (estimate) over 28 days" }
    ingest-freshness      = { alert = "DuctoIngestFreshness", goal = 0.99, pages = true, display = "Ingest freshness (push delivery): 99% of 5-min windows with the oldest unacked message under ${var.freshness_seconds} s" }
    ingest-correctness    = { alert = "DuctoIngestCorrectness", goal = 0.999, pages = false, display = "Ingest correctness: 99.9% of acked messages stored, not rejected, over 28 days" }
  }
  # One shape for every SLI (unused parts null), so the map has a single type.
  no_sli = { kind = null, total = null, bad = null, distribution = null, time_series = null, max = null, window = null }
  sli = {
    for s, f in local.sys : s => {
      api-availability = merge(local.no_sli, {
        kind  = "good_total_ratio"
        total = "${f.api_metrics} AND ${f.api_run} AND ${local.v1_routes}"
        bad   = "${f.api_metrics} AND ${f.api_run} AND ${local.v1_routes} AND metric.labels.status=starts_with(\"5\")"
      })
      api-latency-cached = merge(local.no_sli, {
        kind         = "distribution_cut"
        distribution = "metric.type=\"${local.metric["api-request-latency"]}\" AND ${f.api_run} AND ${local.v1_routes} AND ${local.cache_hit}"
        max          = var.api_cached_latency_threshold_ms
      })
      api-latency-warehouse = merge(local.no_sli, {
        kind         = "distribution_cut"
        distribution = "metric.type=\"${local.metric["api-request-latency"]}\" AND ${f.api_run} AND ${local.v1_routes} AND ${local.cache_reading}"
        max          = var.api_warehouse_latency_threshold_ms
      })
      # Per message: every push request carries one message, and ingest acknowledges each one it
      # stored, found a duplicate or rejected and kept; the rejected ones each log a line.
      ingest-correctness = merge(local.no_sli, {
        kind  = "good_total_ratio"
        total = "metric.type=\"pubsub.googleapis.com/subscription/push_request_count\" AND ${f.subs} AND metric.labels.response_class=\"ack\""
        bad   = "metric.type=\"${local.metric["ingest-messages-rejected"]}\" AND ${f.ingest_run}"
      })
      ingest-freshness = merge(local.no_sli, {
        kind        = "metric_mean_in_range"
        time_series = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${f.subs}"
        max         = var.freshness_seconds
        window      = "300s"
      })
    }
  }
  slos = merge([
    for s in keys(var.systems) : {
      for k, v in local.slo_specs : "${s}/${k}" => merge(v, { system = s, slo = k, sli = local.sli[s][k] })
    }
  ]...)

  # --- alert policies -----------------------------------------------------------------------------
  # The SRE Workbook's multiwindow, multi-burn-rate scheme (same as observability/prometheus/rules.yml):
  # page at 14.4x over 1 h and 5 min, and 6x over 6 h and 30 min; ticket at 3x over 24 h and 2 h.
  burn_rates = {
    FastBurn   = { factor = 14.4, long = "3600s", short = "300s", severity = "CRITICAL", kind = "page" }
    MediumBurn = { factor = 6, long = "21600s", short = "1800s", severity = "CRITICAL", kind = "page" }
    SlowBurn   = { factor = 3, long = "86400s", short = "7200s", severity = "WARNING", kind = "ticket" }
  }
  # A condition: a filter, a threshold, and either an aggregation or none (SLO burn rates).
  no_aggregation = { period = null, aligner = null, reducer = null, group_by = [] }
  burn_alerts = merge([
    for k, slo in local.slos : {
      for b, r in local.burn_rates : "${k}/${b}" => {
        name     = "${slo.alert}${b}"
        system   = slo.system
        severity = slo.pages ? r.severity : "WARNING"
        kind     = slo.pages ? r.kind : "ticket"
        combiner = "AND"
        conditions = [
          for window in [r.long, r.short] : {
            display_name = "burn rate over ${window} above ${r.factor}x"
            filter       = "select_slo_burn_rate(\"${var.slo_names[k]}\", \"${window}\")"
            threshold    = r.factor
            duration     = "0s"
            aggregation  = local.no_aggregation
          }
        ]
        subject = "${slo.alert}${b}: ${slo.system} burns its error budget ${r.factor}x"
        content = "${slo.display} is burning its error budget at more than ${r.factor}x (${slo.pages ? r.kind : "ticket"}). Runbook: ${local.runbook}#${lower("${slo.alert}${b}")}"
      }
    }
  ]...)

  direct_alerts = merge([
    for s, f in local.sys : {
      "${s}/backlog-age" = {
        name     = "DuctoBacklogAge"
        system   = s
        severity = "CRITICAL"
        kind     = "page"
        combiner = "OR"
        conditions = [{
          display_name = "oldest unacked message older than ${var.backlog_age_alert_seconds} s"
          filter       = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${f.subs}"
          threshold    = var.backlog_age_alert_seconds
          duration     = "300s"
          aggregation  = { period = "60s", aligner = "ALIGN_MAX", reducer = null, group_by = [] }
        }]
        subject = "DuctoBacklogAge: ${s} ingest is falling behind"
        content = "A subscription of ${s} holds a message older than ${var.backlog_age_alert_seconds} s: ingest is down, failing or too slow. Runbook: ${local.runbook}#ductobacklogage"
      }
      # Pub/Sub counts, on the subscription that delivers, each message it moves to the dead-letter topic.
      "${s}/dead-letter" = {
        name     = "DuctoDeadLetter"
        system   = s
        severity = "ERROR"
        kind     = "ticket"
        combiner = "OR"
        conditions = [{
          display_name = "any message dead-lettered"
          filter       = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND ${f.subs}"
          threshold    = 0
          duration     = "0s"
          aggregation  = { period = "300s", aligner = "ALIGN_SUM", reducer = null, group_by = [] }
        }]
        subject = "DuctoDeadLetter: ${s} dead-lettered a message"
        content = "A message of ${s} exhausted its delivery attempts and went to a dead-letter topic. Runbook: ${local.runbook}#ductodeadletter (replay: ${local.runbook}#replaying-dead-letters)"
      }
      "${s}/rejected-spike" = {
        name     = "DuctoIngestRejectedSpike"
        system   = s
        severity = "WARNING"
        kind     = "ticket"
        combiner = "OR"
        # Per message and per dataset, from the one log line each rejected message writes.
        conditions = [{
          display_name = "more than ${var.rejected_messages_alert} messages of a dataset rejected in 10 minutes"
          filter       = "metric.type=\"${local.metric["ingest-messages-rejected"]}\" AND ${f.ingest_run}"
          threshold    = var.rejected_messages_alert
          duration     = "0s"
          aggregation  = { period = "600s", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = ["metric.labels.dataset"] }
        }]
        subject = "DuctoIngestRejectedSpike: ${s} is rejecting messages"
        content = "${s} rejected more than ${var.rejected_messages_alert} messages of one dataset in 10 minutes: a producer is sending events that do not fit the schema (a ticket, not a page). They are kept in <dataset>_rejected with their reason code. Runbook: ${local.runbook}#ductoingestrejectedspike"
      }
      "${s}/warehouse-errors" = {
        name     = "DuctoWarehouseErrors"
        system   = s
        severity = "ERROR"
        kind     = "ticket"
        combiner = "OR"
        conditions = [{
          display_name = "warehouse calls failing for 10 minutes"
          filter       = "metric.type=\"${local.metric["warehouse-errors"]}\" AND ${f.both_run}"
          threshold    = 0
          duration     = "600s"
          aggregation  = { period = "300s", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = [] }
        }]
        subject = "DuctoWarehouseErrors: ${s} cannot reach BigQuery"
        content = "Warehouse calls of ${s} have been failing for 10 minutes: writes are redelivered by Pub/Sub (and dead-lettered after 5 attempts), reads answer 503. Runbook: ${local.runbook}#ductowarehouseerrors"
      }
    }
  ]...)

  # BigQuery bills per project, not per system: one policy per env.
  env_alerts = {
    bytes-billed = {
      name     = "DuctoBytesBilled"
      system   = null
      severity = "WARNING"
      kind     = "ticket"
      combiner = "OR"
      conditions = [{
        display_name = "BigQuery bytes billed per day above ${var.bytes_billed_per_day_alert}"
        filter       = "metric.type=\"bigquery.googleapis.com/query/scanned_bytes_billed\" AND resource.type=\"global\""
        threshold    = var.bytes_billed_per_day_alert
        duration     = "0s"
        aggregation  = { period = "86400s", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = [] }
      }]
      subject = "DuctoBytesBilled: BigQuery spend above budget in ${var.env}"
      content = "BigQuery billed more than ${var.bytes_billed_per_day_alert} bytes in a day. Find the queries in INFORMATION_SCHEMA.JOBS. Runbook: ${local.runbook}#ductobytesbilled"
    }
  }

  alerts = {
    for k, a in merge(local.burn_alerts, local.direct_alerts, local.env_alerts) : k => merge(a, {
      display_name = a.system == null ? "${a.name} (${var.env})" : "${a.name} (${a.system}, ${var.env})"
    })
  }

  # --- dashboards -----------------------------------------------------------------------------------
  # A line chart is a title and a filter with its aggregation; a fleet table adds a ranking.
  system_charts = {
    for s, f in local.sys : s => [
      { title = "API requests by status", filter = "metric.type=\"run.googleapis.com/request_count\" AND ${f.api_run}", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.labels.response_code_class"] },
      { title = "API errors by code", filter = "${f.api_metrics} AND ${f.api_run}", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.labels.code"] },
      { title = "API latency p99 (ms) by cache result", filter = "metric.type=\"${local.metric["api-request-latency"]}\" AND ${f.api_run} AND ${local.v1_routes}", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group_by = ["metric.labels.cache"] },
      { title = "Gateway requests", filter = "metric.type=\"apigateway.googleapis.com/proxy/request_count\" AND ${f.gateway}", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.labels.response_code_class"] },
      { title = "Ingest requests by status", filter = "metric.type=\"run.googleapis.com/request_count\" AND ${f.ingest_run}", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.labels.response_code_class"] },
      { title = "Ingest latency p99", filter = "metric.type=\"run.googleapis.com/request_latencies\" AND ${f.ingest_run}", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group_by = [] },
      { title = "Rows stored per dataset", filter = "metric.type=\"${local.metric["ingest-rows-stored"]}\" AND ${f.ingest_run}", aligner = "ALIGN_DELTA", reducer = "REDUCE_MEAN", group_by = ["metric.labels.dataset"] },
      { title = "Messages rejected per dataset", filter = "metric.type=\"${local.metric["ingest-messages-rejected"]}\" AND ${f.ingest_run}", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.labels.dataset"] },
      { title = "Batch write latency p99 (ms)", filter = "metric.type=\"${local.metric["batch-write-latency"]}\" AND ${f.ingest_run}", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group_by = ["metric.labels.dataset"] },
      { title = "Freshness: oldest unacked message age (s)", filter = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${f.subs}", aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group_by = ["resource.labels.subscription_id"] },
      { title = "Backlog: undelivered messages", filter = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND ${f.subs}", aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group_by = ["resource.labels.subscription_id"] },
      { title = "Dead letters", filter = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND ${f.subs}", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = ["resource.labels.subscription_id"] },
      { title = "BigQuery bytes billed (project)", filter = "metric.type=\"bigquery.googleapis.com/query/scanned_bytes_billed\" AND resource.type=\"global\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = [] },
    ]
  }

  # Fleet: worst-N tables across systems, ranked by the series' own resource labels (each system's
  # services and subscriptions are distinct resources), and every SLO's remaining budget.
  fleet_tables = [
    { title = "Worst 5xx rate (per s) by service, API and ingest", filter = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND metric.labels.response_code_class=\"5xx\"", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["resource.labels.service_name"] },
    { title = "Worst API latency p99 (ms) by service", filter = "metric.type=\"${local.metric["api-request-latency"]}\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group_by = ["resource.labels.service_name"] },
    { title = "Stalest subscriptions (oldest unacked age, s)", filter = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type=\"pubsub_subscription\"", aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group_by = ["resource.labels.subscription_id"] },
    { title = "Largest backlogs (undelivered messages)", filter = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\"", aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group_by = ["resource.labels.subscription_id"] },
    { title = "Most rejected messages (per s) by service", filter = "metric.type=\"${local.metric["ingest-messages-rejected"]}\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["resource.labels.service_name"] },
    { title = "Dead letters by subscription", filter = "metric.type=\"pubsub.googleapis.com/subscription/dead_letter_message_count\" AND resource.type=\"pubsub_subscription\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = ["resource.labels.subscription_id"] },
  ]
  fleet_worst_n = 10

  system_dashboards = {
    for s, charts in local.system_charts : s => jsonencode({
      displayName = "ducto ${s} (${var.env})"
      labels      = { "system-${s}" = "", "env-${var.env}" = "" }
      mosaicLayout = {
        columns = 12
        tiles = [
          for i, c in charts : {
            xPos   = (i % 2) * 6
            yPos   = floor(i / 2) * 4
            width  = 6
            height = 4
            widget = {
              title = c.title
              xyChart = {
                dataSets = [{
                  plotType = "LINE"
                  timeSeriesQuery = {
                    timeSeriesFilter = {
                      filter = c.filter
                      aggregation = {
                        alignmentPeriod    = "60s"
                        perSeriesAligner   = c.aligner
                        crossSeriesReducer = c.reducer
                        groupByFields      = c.group_by
                      }
                    }
                  }
                }]
              }
            }
          }
        ]
      }
    })
  }

  fleet_dashboard = jsonencode({
    displayName = "ducto fleet (${var.env})"
    labels      = { "env-${var.env}" = "" }
    mosaicLayout = {
      columns = 12
      tiles = concat(
        [
          for i, t in local.fleet_tables : {
            xPos   = (i % 2) * 6
            yPos   = floor(i / 2) * 4
            width  = 6
            height = 4
            widget = {
              title = t.title
              timeSeriesTable = {
                dataSets = [{
                  timeSeriesQuery = {
                    timeSeriesFilter = {
                      filter = t.filter
                      aggregation = {
                        alignmentPeriod    = "300s"
                        perSeriesAligner   = t.aligner
                        crossSeriesReducer = t.reducer
                        groupByFields      = t.group_by
                      }
                      pickTimeSeriesFilter = { rankingMethod = "METHOD_MAX", numTimeSeries = local.fleet_worst_n, direction = "TOP" }
                    }
                  }
                }]
              }
            }
          }
        ],
        # SLO status per system: the error budget left of every SLO.
        [{
          xPos   = 0
          yPos   = ceil(length(local.fleet_tables) / 2) * 4
          width  = 12
          height = 4
          widget = {
            title = "SLO error budget remaining, by system"
            timeSeriesTable = {
              dataSets = [for k in sort(keys(local.slos)) : {
                tableTemplate = k
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = "select_slo_budget_fraction(\"${var.slo_names[k]}\")"
                  }
                }
              }]
            }
          }
        }],
      )
    }
  })

  dashboards = merge({ for s, d in local.system_dashboards : "system/${s}" => d }, { fleet = local.fleet_dashboard })
}
