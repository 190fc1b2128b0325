variable "alert_notification_channels" {
  description = "Notification channel ids every alert policy notifies (pages and tickets)."
  type        = list(string)
  default     = []
}

variable "bigquery_location" {
  description = "Location of the BigQuery datasets; null puts them in var.region."
  type        = string
  default     = null
}

variable "labels" {
  description = "Extra labels on every system's resources (system, env and component are set by the modules)."
  type        = map(string)
  default     = {}
}

variable "project_id" {
  description = "Project of this environment."
  type        = string
}

variable "region" {
  description = "Region of the services, the gateway, the sources bucket and the image repository."
  type        = string
  default     = "europe-west1"
}

variable "runtime" {
  description = "Node.js runtime of the functions (nodejs24 or nodejs22)."
  type        = string
  default     = "nodejs24"
}

variable "systems" {
  description = "ducto systems by name. Each serves the datasets it lists (schemas/<name>.json; empty = every schema), on functions or on the container image, with its own API, keys and quota."
  type = map(object({
    api = optional(object({
      concurrency           = optional(number, 80)
      cpu                   = optional(string, "1")
      environment_variables = optional(map(string), {})
      max_instances         = optional(number, 10)
      memory                = optional(string, "512Mi")
      min_instances         = optional(number, 0)
      timeout_seconds       = optional(number, 60)
    }), {})
    api_keys = optional(map(object({
      display_name = optional(string)
    })), { canary = {} })
    compute         = optional(string, "functions")
    consumers       = optional(list(string), [])
    container_image = optional(string)
    datasets        = optional(list(string), [])
    ingest = optional(object({
      concurrency           = optional(number, 80)
      cpu                   = optional(string, "1")
      environment_variables = optional(map(string), {})
      max_instances         = optional(number, 10)
      memory                = optional(string, "512Mi")
      min_instances         = optional(number, 0)
      timeout_seconds       = optional(number, 60)
    }), {})
    quota_requests_per_minute = optional(number, 600)
  }))
  validation {
    condition     = length(var.systems) > 0
    error_message = "Deploy at least one system."
  }
}
