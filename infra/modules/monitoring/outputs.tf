output "alert_policies" {
  description = "Alert policy names, by <system>/<slo>/<burn> and <system>/<alert> (project-wide ones by <alert>)."
  value       = { for k, p in google_monitoring_alert_policy.default : k => p.name }
}

output "dashboard_ids" {
  description = "Dashboard ids: system/<system> for each system, and fleet."
  value       = { for k, d in google_monitoring_dashboard.default : k => d.id }
}

output "log_metrics" {
  description = "Log-based metric types, by short name."
  value       = { for k, name in time_sleep.log_metrics.triggers : k => "logging.googleapis.com/user/${name}" }
}

output "slos" {
  description = "SLO resource names, by <system>/<slo>."
  value       = { for k, s in google_monitoring_slo.default : k => s.name }
}
