output "alerts" {
  description = "Alert policies by key: display name, severity, combiner, labels, conditions (filter, threshold, aggregation) and documentation."
  value       = local.alerts
}

output "dashboards" {
  description = "Dashboard JSON by key: `system/<system>` for each system, and `fleet`."
  value       = local.dashboards
}

output "log_metrics" {
  description = "Log-based metric definitions by short name: filter, labels, value extractor, kind, type, unit, explicit bucket bounds (null for counters)."
  value       = local.log_metrics
}

output "slos" {
  description = "SLOs by <system>/<slo>: goal, display name, and the SLI (kind and filters)."
  value       = local.slos
}
