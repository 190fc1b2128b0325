variable "api_cached_latency_threshold_ms" {
  description = "Bound of the cached API latency SLO (ms, in-app duration): 99% of /v1 answers served from the response cache (cache=hit) take at most this. Why 100: the local API benchmark, saturating one core with cached pages, measures a p99 of a few ms to a few tens of ms at most (bench/results/latest.json, results.api.summary.ducto.p99Ms); 100 ms leaves margin for Cloud Run's slower CPU and pauses. Must be a bound of the api-request-latency buckets (= ducto_api_request_duration_seconds x 1000)."
  type        = number
  default     = 100
  validation {
    condition     = contains(local.bounds.api_ms, var.api_cached_latency_threshold_ms)
    error_message = "The threshold must be a bucket bound of api-request-latency (local.bounds.api_ms), or the SLO would interpolate inside a bucket."
  }
}

variable "api_warehouse_latency_threshold_ms" {
  description = "Bound of the warehouse API latency SLO (ms, in-app duration): 95% of /v1 JSON answers that read the warehouse (cache=miss or shared) take at most this. An ESTIMATE, never measured: an uncached BigQuery query in short-query mode is expected to take roughly 0.3-1 s, plus Cloud Run and serialisation; re-derive it from the first 28 days of real traffic. Must be a bound of the api-request-latency buckets (= ducto_api_request_duration_seconds x 1000)."
  type        = number
  default     = 2500
  validation {
    condition     = contains(local.bounds.api_ms, var.api_warehouse_latency_threshold_ms)
    error_message = "The threshold must be a bucket bound of api-request-latency (local.bounds.api_ms), or the SLO would interpolate inside a bucket."
  }
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
  description = "Ingest freshness bound (seconds): the oldest unacked message of each push subscription (push delivery, as deployed) stays younger than this. Not derived from the local benchmark, whose freshness figures (bench/results/latest.json, results.freshness) are measured with the emulator in pull mode (streaming pull) and a direct push without a broker, never with Pub/Sub push."
  type        = number
  default     = 300
}

variable "log_metric_types" {
  description = "Metric type of each log-based metric this module defines (output log_metrics), taken from the created metrics so nothing reads a metric before it exists."
  type        = map(string)
}

variable "rejected_messages_alert" {
  description = "Ticket when more than this many messages of one dataset of a system are rejected within 10 minutes (counted per message, from the `message rejected` log line)."
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
