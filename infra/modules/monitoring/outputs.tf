output "alert_policies" {
  description = "Alert policy names, by <system>/<alert> (and project-wide ones by <alert>)."
  value = merge(
    { for k, p in google_monitoring_alert_policy.burn_rate : k => p.name },
    { for k, p in google_monitoring_alert_policy.backlog_age : "${k}/backlog-age" => p.name },
    { for k, p in google_monitoring_alert_policy.dead_letter : "${k}/dead-letter" => p.name },
    { "bytes-billed" = google_monitoring_alert_policy.bytes_billed.name },
  )
}

output "fleet_dashboard_id" {
  description = "Id of the fleet dashboard."
  value       = google_monitoring_dashboard.fleet.id
}

output "log_metrics" {
  description = "Log-based metric types, by short name."
  value       = { for k, m in google_logging_metric.default : k => "logging.googleapis.com/user/${m.name}" }
}

output "slos" {
  description = "SLO resource names, by <system>/<slo>."
  value       = { for k, s in google_monitoring_slo.default : k => s.name }
}

output "system_dashboard_ids" {
  description = "Id of each system's dashboard, by system."
  value       = { for k, d in google_monitoring_dashboard.system : k => d.id }
}
