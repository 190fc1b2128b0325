# Observability as code for the systems of one env: log-based metrics over the JSON lines the code
# writes (src/app.ts), SLOs per system on them and on built-in metrics, multiwindow multi-burn-rate
# alerts (Google SRE Workbook; the same scheme as observability/prometheus/rules.yml), direct alerts
# where an SLO is the wrong tool, a dashboard per system and one fleet dashboard. Nothing runs an
# exporter: every signal is a log line or a built-in metric.

locals {
  runbook = var.runbook_base_url

  # --- log-based metrics: project-wide, the system is the Cloud Run service name (<system>-api) ---
  batch_filter   = "resource.type=\"cloud_run_revision\" AND jsonPayload.message=\"batch written\""
  request_filter = "resource.type=\"cloud_run_revision\" AND jsonPayload.message=\"request\""
  # 1 ms .. ~65 s in 16 doubling buckets.
  latency_buckets = { num_finite_buckets = 16, growth_factor = 2, scale = 1 }
  log_metrics = {
    ingest-batches = {
      description = "Batches written by ingest, by dataset (one log line per batch)."
      filter      = local.batch_filter
      value       = null
      labels      = { dataset = "EXTRACT(jsonPayload.batch.dataset)" }
    }
    ingest-batches-rejecting = {
      description = "Batches written by ingest that rejected at least one message, by dataset."
      filter      = "${local.batch_filter} AND jsonPayload.batch.rejected>0"
      value       = null
      labels      = { dataset = "EXTRACT(jsonPayload.batch.dataset)" }
    }
    ingest-rows-stored = {
      description = "Rows stored per batch, by dataset (sum it for the stored outcome)."
      filter      = local.batch_filter
      value       = "EXTRACT(jsonPayload.batch.stored)"
      labels      = { dataset = "EXTRACT(jsonPayload.batch.dataset)" }
    }
    ingest-rows-rejected = {
      description = "Messages rejected per batch, by dataset (sum it for the rejected outcome)."
      filter      = local.batch_filter
      value       = "EXTRACT(jsonPayload.batch.rejected)"
      labels      = { dataset = "EXTRACT(jsonPayload.batch.dataset)" }
    }
    batch-write-latency = {
      description = "Warehouse write time of a batch in milliseconds, by dataset."
      filter      = local.batch_filter
      value       = "EXTRACT(jsonPayload.batch.durationMs)"
      labels      = { dataset = "EXTRACT(jsonPayload.batch.dataset)" }
    }
    api-requests = {
      description = "API requests by route, status and error code."
      filter      = local.request_filter
      value       = null
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
      labels      = {}
    }
    api-request-latency = {
      description = "API request duration in milliseconds, by route."
      filter      = local.request_filter
      value       = "EXTRACT(jsonPayload.request.durationMs)"
      labels      = { route = "EXTRACT(jsonPayload.request.route)" }
    }
  }
  user_metric = { for k in keys(local.log_metrics) : k => "logging.googleapis.com/user/ducto-${k}" }
  # The API SLOs count consumer traffic only: /healthz, /readyz, /metrics and /openapi.json are left out.
  v1_routes = "metric.label.route=starts_with(\"/v1/\")"

  # --- per-system filters over built-in and log-based metrics -------------------------------------
  sys = {
    for s, v in var.systems : s => {
      api_run     = "resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${s}-api\""
      ingest_run  = "resource.type=\"cloud_run_revision\" AND resource.label.service_name=\"${s}-ingest\""
      subs        = "resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=one_of(${join(",", [for d in v.datasets : "\"${s}-${d}-ingest\""])})"
      dead_topics = "resource.type=\"pubsub_topic\" AND resource.label.topic_id=one_of(${join(",", [for d in v.datasets : "\"${s}-${d}-dead-letter\""])})"
    }
  }

  # --- SLOs ---------------------------------------------------------------------------------------
  slo_specs = {
    api-availability   = { alert = "DuctoApiAvailability", goal = 0.999, display = "API availability: 99.9% of requests not 5xx over 28 days" }
    api-latency        = { alert = "DuctoApiLatency", goal = 0.99, display = "API latency: 99% of requests under ${var.api_latency_threshold_ms} ms over 28 days" }
    ingest-freshness   = { alert = "DuctoIngestFreshness", goal = 0.99, display = "Ingest freshness: 99% of 5-minute windows with the backlog younger than ${var.freshness_seconds} s" }
    ingest-correctness = { alert = "DuctoIngestCorrectness", goal = 0.999, display = "Ingest correctness: 99.9% of batches write without rejecting a message" }
  }
  slos = merge([for s in keys(var.systems) : { for k, v in local.slo_specs : "${s}/${k}" => merge(v, { system = s, slo = k }) }]...)

  # The SRE Workbook's multiwindow, multi-burn-rate scheme (same as the Prometheus rules).
  burn_rates = {
    FastBurn   = { factor = 14.4, long = "3600s", short = "300s", severity = "CRITICAL", kind = "page" }
    MediumBurn = { factor = 6, long = "21600s", short = "1800s", severity = "CRITICAL", kind = "page" }
    SlowBurn   = { factor = 3, long = "86400s", short = "7200s", severity = "WARNING", kind = "ticket" }
  }
  burn_policies = merge([for k, slo in local.slos : { for b, r in local.burn_rates : "${k}/${b}" => merge(r, { slo_key = k, alert = "${slo.alert}${b}", system = slo.system, display = slo.display }) }]...)

  user_labels = merge(var.labels, { env = var.env })
}

resource "google_logging_metric" "default" {
  for_each    = local.log_metrics
  project     = var.project_id
  name        = "ducto-${each.key}"
  description = each.value.description
  filter      = each.value.filter
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = each.value.value == null ? "INT64" : "DISTRIBUTION"
    unit        = endswith(each.key, "latency") ? "ms" : "1"
    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }
  label_extractors = each.value.labels
  value_extractor  = each.value.value
  dynamic "bucket_options" {
    for_each = each.value.value == null ? [] : [1]
    content {
      exponential_buckets {
        num_finite_buckets = local.latency_buckets.num_finite_buckets
        growth_factor      = local.latency_buckets.growth_factor
        scale              = local.latency_buckets.scale
      }
    }
  }
}

resource "google_monitoring_custom_service" "default" {
  for_each     = var.systems
  project      = var.project_id
  service_id   = "ducto-${each.key}"
  display_name = "ducto ${each.key} (${var.env})"
  user_labels  = merge(local.user_labels, { system = each.key })
}

resource "google_monitoring_slo" "default" {
  for_each            = local.slos
  project             = var.project_id
  service             = google_monitoring_custom_service.default[each.value.system].service_id
  slo_id              = each.value.slo
  display_name        = each.value.display
  goal                = each.value.goal
  rolling_period_days = 28
  user_labels         = merge(local.user_labels, { system = each.value.system })

  dynamic "request_based_sli" {
    for_each = each.value.slo == "api-availability" ? [1] : []
    content {
      good_total_ratio {
        total_service_filter = "metric.type=\"${local.user_metric["api-requests"]}\" AND ${local.sys[each.value.system].api_run} AND ${local.v1_routes}"
        bad_service_filter   = "metric.type=\"${local.user_metric["api-requests"]}\" AND ${local.sys[each.value.system].api_run} AND ${local.v1_routes} AND metric.label.status=starts_with(\"5\")"
      }
    }
  }
  dynamic "request_based_sli" {
    for_each = each.value.slo == "api-latency" ? [1] : []
    content {
      distribution_cut {
        distribution_filter = "metric.type=\"${local.user_metric["api-request-latency"]}\" AND ${local.sys[each.value.system].api_run} AND ${local.v1_routes}"
        range {
          max = var.api_latency_threshold_ms
        }
      }
    }
  }
  dynamic "request_based_sli" {
    for_each = each.value.slo == "ingest-correctness" ? [1] : []
    content {
      good_total_ratio {
        total_service_filter = "metric.type=\"${local.user_metric["ingest-batches"]}\" AND ${local.sys[each.value.system].ingest_run}"
        bad_service_filter   = "metric.type=\"${local.user_metric["ingest-batches-rejecting"]}\" AND ${local.sys[each.value.system].ingest_run}"
      }
    }
  }
  dynamic "windows_based_sli" {
    for_each = each.value.slo == "ingest-freshness" ? [1] : []
    content {
      window_period = "300s"
      metric_mean_in_range {
        time_series = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${local.sys[each.value.system].subs}"
        range {
          max = var.freshness_seconds
        }
      }
    }
  }
}

# Page at 14.4x over 1 h and 5 min, and 6x over 6 h and 30 min; ticket at 3x over 24 h and 2 h.
resource "google_monitoring_alert_policy" "burn_rate" {
  for_each              = local.burn_policies
  project               = var.project_id
  display_name          = "${each.value.alert} (${each.value.system}, ${var.env})"
  combiner              = "AND"
  severity              = each.value.severity
  notification_channels = var.notification_channels
  user_labels           = merge(local.user_labels, { system = each.value.system, kind = each.value.kind })

  dynamic "conditions" {
    for_each = [each.value.long, each.value.short]
    content {
      display_name = "burn rate over ${conditions.value} above ${each.value.factor}x"
      condition_threshold {
        filter          = "select_slo_burn_rate(\"${google_monitoring_slo.default[each.value.slo_key].name}\", \"${conditions.value}\")"
        comparison      = "COMPARISON_GT"
        threshold_value = each.value.factor
        duration        = "0s"
        trigger {
          count = 1
        }
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "${each.value.alert}: ${each.value.system} burns its error budget ${each.value.factor}x"
    content   = "${each.value.display} is burning its error budget at more than ${each.value.factor}x (${each.value.kind}). Runbook: ${local.runbook}#${lower(each.value.alert)}"
  }
}

resource "google_monitoring_alert_policy" "backlog_age" {
  for_each              = var.systems
  project               = var.project_id
  display_name          = "DuctoBacklogAge (${each.key}, ${var.env})"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = var.notification_channels
  user_labels           = merge(local.user_labels, { system = each.key, kind = "page" })
  conditions {
    display_name = "oldest unacked message older than ${var.backlog_age_alert_seconds} s"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${local.sys[each.key].subs}"
      comparison      = "COMPARISON_GT"
      threshold_value = var.backlog_age_alert_seconds
      duration        = "300s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
  documentation {
    mime_type = "text/markdown"
    subject   = "DuctoBacklogAge: ${each.key} ingest is falling behind"
    content   = "A subscription of ${each.key} holds a message older than ${var.backlog_age_alert_seconds} s: ingest is down, failing or too slow. Runbook: ${local.runbook}#ductobacklogage"
  }
}

resource "google_monitoring_alert_policy" "dead_letter" {
  for_each              = var.systems
  project               = var.project_id
  display_name          = "DuctoDeadLetter (${each.key}, ${var.env})"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channels
  user_labels           = merge(local.user_labels, { system = each.key, kind = "ticket" })
  conditions {
    display_name = "any message dead-lettered"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/topic/send_message_operation_count\" AND ${local.sys[each.key].dead_topics}"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }
  documentation {
    mime_type = "text/markdown"
    subject   = "DuctoDeadLetter: ${each.key} dead-lettered a message"
    content   = "A message of ${each.key} exhausted its delivery attempts and went to a dead-letter topic. Runbook: ${local.runbook}#ductodeadletter (replay: ${local.runbook}#replaying-dead-letters)"
  }
}

resource "google_monitoring_alert_policy" "rejected_spike" {
  for_each              = var.systems
  project               = var.project_id
  display_name          = "DuctoIngestRejectedSpike (${each.key}, ${var.env})"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels
  user_labels           = merge(local.user_labels, { system = each.key, kind = "ticket" })
  conditions {
    display_name = "more than ${var.rejected_batches_alert} batches rejecting a message in 10 minutes"
    condition_threshold {
      filter          = "metric.type=\"${local.user_metric["ingest-batches-rejecting"]}\" AND ${local.sys[each.key].ingest_run}"
      comparison      = "COMPARISON_GT"
      threshold_value = var.rejected_batches_alert
      duration        = "0s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
  documentation {
    mime_type = "text/markdown"
    subject   = "DuctoIngestRejectedSpike: ${each.key} is rejecting messages"
    content   = "Batches of ${each.key} keep rejecting messages: a producer is sending events that do not fit the schema. They are kept in <dataset>_rejected with their reason code. Runbook: ${local.runbook}#ductoingestrejectedspike"
  }
}

resource "google_monitoring_alert_policy" "warehouse_errors" {
  for_each              = var.systems
  project               = var.project_id
  display_name          = "DuctoWarehouseErrors (${each.key}, ${var.env})"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = var.notification_channels
  user_labels           = merge(local.user_labels, { system = each.key, kind = "ticket" })
  conditions {
    display_name = "warehouse calls failing for 10 minutes"
    condition_threshold {
      filter          = "metric.type=\"${local.user_metric["warehouse-errors"]}\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=one_of(\"${each.key}-api\",\"${each.key}-ingest\")"
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "600s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
  documentation {
    mime_type = "text/markdown"
    subject   = "DuctoWarehouseErrors: ${each.key} cannot reach BigQuery"
    content   = "Warehouse calls of ${each.key} have been failing for 10 minutes: writes are redelivered by Pub/Sub (and dead-lettered after 5 attempts), reads answer 503. Runbook: ${local.runbook}#ductowarehouseerrors"
  }
}

# BigQuery bills per project, not per system: one policy per env.
resource "google_monitoring_alert_policy" "bytes_billed" {
  project               = var.project_id
  display_name          = "DuctoBytesBilled (${var.env})"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = var.notification_channels
  user_labels           = merge(local.user_labels, { kind = "ticket" })
  conditions {
    display_name = "BigQuery bytes billed per day above ${var.bytes_billed_per_day_alert}"
    condition_threshold {
      filter          = "metric.type=\"bigquery.googleapis.com/query/scanned_bytes_billed\" AND resource.type=\"global\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.bytes_billed_per_day_alert
      duration        = "0s"
      aggregations {
        alignment_period     = "86400s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
  documentation {
    mime_type = "text/markdown"
    subject   = "DuctoBytesBilled: BigQuery spend above budget in ${var.env}"
    content   = "BigQuery billed more than ${var.bytes_billed_per_day_alert} bytes in a day. Find the queries in INFORMATION_SCHEMA.JOBS. Runbook: ${local.runbook}#ductobytesbilled"
  }
}
