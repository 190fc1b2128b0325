variable "api_cached_latency_threshold_ms" {
  description = "Bound of the cached API latency SLO (ms): 99% of /v1 answers served from the response cache take at most this. A bucket bound of api-request-latency; the rationale is in modules/monitoring-spec."
  type        = number
  default     = 100
}

variable "api_warehouse_latency_threshold_ms" {
  description = "Bound of the warehouse API latency SLO (ms): 95% of /v1 JSON answers that read the warehouse take at most this. An ESTIMATE for BigQuery, to re-derive from the first 28 days of real traffic; a bucket bound of api-request-latency (modules/monitoring-spec)."
  type        = number
  default     = 2500
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
  description = "Ingest freshness bound (seconds): the oldest unacked message of each push subscription (push delivery, as deployed) stays younger than this."
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

variable "page_notification_channels" {
  description = "Notification channel ids of the policies that page (user label kind = page): the on-call's pager."
  type        = list(string)
  default     = []
}

variable "project_id" {
  description = "Project the metrics, SLOs, policies and dashboards live in."
  type        = string
}

variable "rejected_messages_alert" {
  description = "Ticket when more than this many messages of one dataset of a system are rejected within 10 minutes (counted per message)."
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

variable "ticket_notification_channels" {
  description = "Notification channel ids of the policies that open a ticket (user label kind = ticket): a queue read in working hours."
  type        = list(string)
  default     = []
}
