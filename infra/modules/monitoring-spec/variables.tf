variable "api_latency_threshold_ms" {
  description = "The API latency SLO bound: 99% of requests complete under it (milliseconds)."
  type        = number
  default     = 250
}

variable "backlog_age_alert_seconds" {
  description = "Page when a subscription's oldest unacked message is older than this (seconds)."
  type        = number
  default     = 600
}

variable "bytes_billed_per_day_alert" {
  description = "Ticket when BigQuery bills more than this many bytes in a day, per project."
  type        = number
  default     = 1099511627776
}

variable "env" {
  description = "Environment name, in display names (dev, prod)."
  type        = string
}

variable "freshness_seconds" {
  description = "Ingest freshness bound: the oldest unacked message stays younger than this (seconds)."
  type        = number
  default     = 300
}

variable "log_metric_types" {
  description = "Metric type of each log-based metric this module defines (output log_metrics), taken from the created metrics so nothing reads a metric before it exists."
  type        = map(string)
}

variable "rejected_batches_alert" {
  description = "Ticket when more than this many ingest batches of one system reject a message within 10 minutes."
  type        = number
  default     = 10
}

variable "runbook_base_url" {
  description = "Base URL of docs/operations.md; alert documentation links to <base>#<alert>."
  type        = string
  default     = "docs/operations.md"
}

variable "slo_names" {
  description = "Resource name of each SLO this module defines (output slos), for burn-rate alerts and the fleet dashboard."
  type        = map(string)
}

variable "systems" {
  description = "Per system, the names of what it runs, from the system module's `monitoring` output (never rebuilt from the system name)."
  type = map(object({
    api_service    = string
    datasets       = list(string)
    gateway_id     = string
    ingest_service = string
    subscriptions  = list(string)
  }))
  default = {}
}
