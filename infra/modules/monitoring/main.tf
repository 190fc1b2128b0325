# Observability as code for the systems of one env: what modules/monitoring-spec defines (log-based
# metrics over the JSON lines the code writes, SLOs, burn-rate and direct alert policies,
# dashboards), created in the order Cloud Monitoring needs. Nothing runs an exporter: every signal
# is a log line or a built-in metric.

module "spec" {
  source                             = "../monitoring-spec"
  env                                = var.env
  systems                            = var.systems
  api_cached_latency_threshold_ms    = var.api_cached_latency_threshold_ms
  api_warehouse_latency_threshold_ms = var.api_warehouse_latency_threshold_ms
  backlog_age_alert_seconds          = var.backlog_age_alert_seconds
  bytes_billed_per_day_alert         = var.bytes_billed_per_day_alert
  freshness_seconds                  = var.freshness_seconds
  rejected_messages_alert            = var.rejected_messages_alert
  runbook_base_url                   = var.runbook_base_url
  # Read back from the created (and waited-for) metrics and SLOs, never spelled out: whatever reads
  # a metric type or an SLO depends on the resource that makes it exist.
  log_metric_types = { for k, name in time_sleep.log_metrics.triggers : k => "logging.googleapis.com/user/${name}" }
  slo_names        = { for k, s in google_monitoring_slo.default : k => s.name }
}

locals {
  user_labels = merge(var.labels, { env = var.env })
}

resource "google_logging_metric" "default" {
  for_each    = module.spec.log_metrics
  project     = var.project_id
  name        = "ducto-${each.key}"
  description = each.value.description
  filter      = each.value.filter
  metric_descriptor {
    metric_kind = each.value.kind
    value_type  = each.value.value_type
    unit        = each.value.unit
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
  # Explicit bounds, those of the Prometheus histogram measuring the same thing (monitoring-spec):
  # the latency SLO thresholds are bounds, so no SLI interpolates inside a bucket.
  dynamic "bucket_options" {
    for_each = each.value.bounds == null ? [] : [each.value.bounds]
    content {
      explicit_buckets {
        bounds = bucket_options.value
      }
    }
  }
}

# A new log-based metric is not queryable by Cloud Monitoring at once: an alert policy or SLO created
# right after it fails with 404 "Cannot find metric(s) that match type" (hashicorp/terraform-provider-google
# issue 11102). The metric types reach module.spec only through this wait, which runs again whenever
# the set of metrics changes.
resource "time_sleep" "log_metrics" {
  create_duration = var.log_metric_propagation
  triggers        = { for k, m in google_logging_metric.default : k => m.name }
}

resource "google_monitoring_custom_service" "default" {
  for_each     = var.systems
  project      = var.project_id
  service_id   = "ducto-${each.key}"
  display_name = "ducto ${each.key} (${var.env})"
  user_labels  = merge(local.user_labels, { system = each.key })
}

resource "google_monitoring_slo" "default" {
  for_each            = module.spec.slos
  project             = var.project_id
  service             = google_monitoring_custom_service.default[each.value.system].service_id
  slo_id              = each.value.slo
  display_name        = each.value.display
  goal                = each.value.goal
  rolling_period_days = 28
  user_labels         = merge(local.user_labels, { system = each.value.system })

  dynamic "request_based_sli" {
    for_each = each.value.sli.kind == "good_total_ratio" ? [each.value.sli] : []
    content {
      good_total_ratio {
        total_service_filter = request_based_sli.value.total
        bad_service_filter   = request_based_sli.value.bad
      }
    }
  }
  dynamic "request_based_sli" {
    for_each = each.value.sli.kind == "distribution_cut" ? [each.value.sli] : []
    content {
      distribution_cut {
        distribution_filter = request_based_sli.value.distribution
        range {
          max = request_based_sli.value.max
        }
      }
    }
  }
  dynamic "windows_based_sli" {
    for_each = each.value.sli.kind == "metric_mean_in_range" ? [each.value.sli] : []
    content {
      window_period = windows_based_sli.value.window
      metric_mean_in_range {
        time_series = windows_based_sli.value.time_series
        range {
          max = windows_based_sli.value.max
        }
      }
    }
  }
}

# Every policy: burn rates per SLO (page at 14.4x and 6x, ticket at 3x) and direct alerts.
resource "google_monitoring_alert_policy" "default" {
  for_each     = module.spec.alerts
  project      = var.project_id
  display_name = each.value.display_name
  combiner     = each.value.combiner
  severity     = each.value.severity
  # Pages go where someone is woken; tickets where they wait for working hours.
  notification_channels = each.value.kind == "page" ? var.page_notification_channels : var.ticket_notification_channels
  user_labels = merge(
    local.user_labels,
    { kind = each.value.kind },
    each.value.system == null ? {} : { system = each.value.system },
  )

  dynamic "conditions" {
    for_each = each.value.conditions
    content {
      display_name = conditions.value.display_name
      condition_threshold {
        filter          = conditions.value.filter
        comparison      = "COMPARISON_GT"
        threshold_value = conditions.value.threshold
        duration        = conditions.value.duration
        trigger {
          count = 1
        }
        dynamic "aggregations" {
          for_each = conditions.value.aggregation.aligner == null ? [] : [conditions.value.aggregation]
          content {
            alignment_period     = aggregations.value.period
            per_series_aligner   = aggregations.value.aligner
            cross_series_reducer = aggregations.value.reducer
            group_by_fields      = aggregations.value.group_by
          }
        }
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = each.value.subject
    content   = each.value.content
  }
}

resource "google_monitoring_dashboard" "default" {
  for_each       = module.spec.dashboards
  project        = var.project_id
  dashboard_json = each.value
}
