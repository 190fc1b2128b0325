# Dashboards as jsonencode of locals: a line chart is a title and a few filters, a table is a
# title, a filter and a ranking. One dashboard per system, one fleet dashboard per env.

locals {
  # One line-chart tile: a title and a list of { filter, aligner, reducer, group_by }.
  system_charts = {
    for s, f in local.sys : s => [
      { title = "API requests by status", filter = "metric.type=\"run.googleapis.com/request_count\" AND ${f.api_run}", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.response_code_class"] },
      { title = "API errors by code", filter = "metric.type=\"${local.user_metric["api-requests"]}\" AND ${f.api_run}", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.code"] },
      { title = "API latency p99 (ms)", filter = "metric.type=\"${local.user_metric["api-request-latency"]}\" AND ${f.api_run}", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group_by = ["metric.label.route"] },
      { title = "Gateway requests", filter = "metric.type=\"apigateway.googleapis.com/proxy/request_count\" AND resource.label.gateway_id=\"${s}\"", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.response_code_class"] },
      { title = "Gateway latency p99", filter = "metric.type=\"apigateway.googleapis.com/proxy/request_latencies\" AND resource.label.gateway_id=\"${s}\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group_by = [] },
      { title = "Ingest requests by status", filter = "metric.type=\"run.googleapis.com/request_count\" AND ${f.ingest_run}", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.response_code_class"] },
      { title = "Ingest latency p99", filter = "metric.type=\"run.googleapis.com/request_latencies\" AND ${f.ingest_run}", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group_by = [] },
      { title = "Rows stored per dataset", filter = "metric.type=\"${local.user_metric["ingest-rows-stored"]}\" AND ${f.ingest_run}", aligner = "ALIGN_DELTA", reducer = "REDUCE_MEAN", group_by = ["metric.label.dataset"] },
      { title = "Messages rejected per dataset", filter = "metric.type=\"${local.user_metric["ingest-rows-rejected"]}\" AND ${f.ingest_run}", aligner = "ALIGN_DELTA", reducer = "REDUCE_MEAN", group_by = ["metric.label.dataset"] },
      { title = "Batch write latency p99 (ms)", filter = "metric.type=\"${local.user_metric["batch-write-latency"]}\" AND ${f.ingest_run}", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group_by = ["metric.label.dataset"] },
      { title = "Freshness: oldest unacked message age (s)", filter = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND ${f.subs}", aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group_by = ["resource.label.subscription_id"] },
      { title = "Backlog: undelivered messages", filter = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND ${f.subs}", aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group_by = ["resource.label.subscription_id"] },
      { title = "Dead letters", filter = "metric.type=\"pubsub.googleapis.com/topic/send_message_operation_count\" AND ${f.dead_topics}", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = ["resource.label.topic_id"] },
      { title = "BigQuery bytes billed (project)", filter = "metric.type=\"bigquery.googleapis.com/query/scanned_bytes_billed\" AND resource.type=\"global\"", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = [] },
    ]
  }

  # Fleet: worst-N tables across systems. Service names are <system>-api / <system>-ingest, so the
  # ranked series carry the system in resource.label.service_name; the SLOs carry it as user label.
  fleet_tables = [
    { title = "Worst API error rate (5xx/s) by system", filter = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\" AND resource.label.service_name=ends_with(\"-api\") AND metric.label.response_code_class=\"5xx\"", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["resource.label.service_name"] },
    { title = "Worst API latency p99 (ms) by system", filter = "metric.type=\"${local.user_metric["api-request-latency"]}\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99", group_by = ["resource.label.service_name"] },
    { title = "Stalest subscriptions (oldest unacked age, s)", filter = "metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.type=\"pubsub_subscription\"", aligner = "ALIGN_MAX", reducer = "REDUCE_MAX", group_by = ["resource.label.subscription_id"] },
    { title = "Largest backlogs (undelivered messages)", filter = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\"", aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group_by = ["resource.label.subscription_id"] },
    { title = "Most rejected messages by system", filter = "metric.type=\"${local.user_metric["ingest-rows-rejected"]}\" AND resource.type=\"cloud_run_revision\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_MEAN", group_by = ["resource.label.service_name"] },
    { title = "Dead letters by topic", filter = "metric.type=\"pubsub.googleapis.com/topic/send_message_operation_count\" AND resource.type=\"pubsub_topic\" AND resource.label.topic_id=ends_with(\"-dead-letter\")", aligner = "ALIGN_SUM", reducer = "REDUCE_SUM", group_by = ["resource.label.topic_id"] },
  ]

  fleet_worst_n = 10
}

resource "google_monitoring_dashboard" "system" {
  for_each = local.system_charts
  project  = var.project_id
  dashboard_json = jsonencode({
    displayName = "ducto ${each.key} (${var.env})"
    labels      = { "system-${each.key}" = "", "env-${var.env}" = "" }
    mosaicLayout = {
      columns = 12
      tiles = [
        for i, c in each.value : {
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

resource "google_monitoring_dashboard" "fleet" {
  project = var.project_id
  dashboard_json = jsonencode({
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
        # SLO status per system: the error budget left of every SLO, worst first.
        [{
          xPos   = 0
          yPos   = ceil(length(local.fleet_tables) / 2) * 4
          width  = 12
          height = 4
          widget = {
            title = "SLO error budget remaining, by system"
            timeSeriesTable = {
              dataSets = [for k, s in google_monitoring_slo.default : {
                tableTemplate = k
                timeSeriesQuery = {
                  timeSeriesFilter = {
                    filter = "select_slo_budget_fraction(\"${s.name}\")"
                  }
                }
              }]
            }
          }
        }],
      )
    }
  })
}
