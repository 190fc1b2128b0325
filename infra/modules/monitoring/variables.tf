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
  description = "Environment name, the env label (dev, prod)."
  type        = string
}

variable "freshness_seconds" {
  description = "Ingest freshness bound: the oldest unacked message stays younger than this (seconds)."
  type        = number
  default     = 300
}

variable "labels" {
  description = "Extra user labels on services, SLOs and policies; the module sets system and env."
  type        = map(string)
  default     = {}
}

variable "log_metric_propagation" {
  description = "How long to wait after creating log-based metrics before anything reads them (a Terraform duration)."
  type        = string
  default     = "600s"
}

variable "notification_channels" {
  description = "Notification channel ids every alert policy notifies."
  type        = list(string)
  default     = []
}

variable "project_id" {
  description = "Project the metrics, SLOs, policies and dashboards live in."
  type        = string
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

variable "systems" {
  description = "Per system, the names of what it runs (the system module's `monitoring` output); each gets SLOs, burn-rate and direct alerts and a dashboard."
  type = map(object({
    api_service    = string
    datasets       = list(string)
    gateway_id     = string
    ingest_service = string
    subscriptions  = list(string)
  }))
  default = {}
}
