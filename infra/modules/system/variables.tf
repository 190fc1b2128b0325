variable "api" {
  description = "Scaling and sizing of the api service, and extra environment variables."
  type = object({
    concurrency           = optional(number, 80)
    cpu                   = optional(string, "1")
    environment_variables = optional(map(string), {})
    max_instances         = optional(number, 10)
    memory                = optional(string, "512Mi")
    min_instances         = optional(number, 0)
    timeout_seconds       = optional(number, 60)
  })
  default = {}
}

variable "api_keys" {
  description = "API keys to create in the project for this system's API (e.g. canary)."
  type = map(object({
    display_name = optional(string)
  }))
  default = {}
}

variable "bigquery_location" {
  description = "Location of the system's BigQuery dataset."
  type        = string
}

variable "build_service_account" {
  description = "Id (projects/<p>/serviceAccounts/<email>) of the service account the function builds run as, once its grants have propagated."
  type        = string
}

variable "compute" {
  description = "What runs ingest and api: functions (Cloud Run functions from the source archive) or cloud-run (the Dockerfile image)."
  type        = string
  default     = "functions"
  validation {
    condition     = contains(["functions", "cloud-run"], var.compute)
    error_message = "compute is functions or cloud-run."
  }
}

variable "consumers" {
  description = "Members allowed to enable this system's API in their own projects and call it with their keys."
  type        = list(string)
  default     = []
}

variable "container_image" {
  description = "Image built from the Dockerfile, required when compute is cloud-run."
  type        = string
  default     = null
  validation {
    condition     = var.compute != "cloud-run" || var.container_image != null
    error_message = "compute = cloud-run needs container_image."
  }
}

variable "cursor_secret_version" {
  description = "Version of the generated cursor-signing secret; increase it to rotate the secret."
  type        = number
  default     = 1
}

variable "datasets" {
  description = "The system's datasets, as the dataset-files module reads them from infra/generated and infra/gateway."
  type = map(object({
    avro_schema   = string
    gateway_paths = string
    tables = map(object({
      clustering      = list(string)
      description     = string
      partition_field = string
      partition_type  = string
      schema          = string
    }))
    views = map(object({
      description = string
      query       = string
    }))
  }))
  validation {
    condition     = length(var.datasets) > 0
    error_message = "A system has at least one dataset."
  }
}

variable "deletion_protection" {
  description = "Protect tables, views and Cloud Run services from destroy. On in prod."
  type        = bool
}

variable "docker_repository" {
  description = "Artifact Registry repository id the function builds push their images to."
  type        = string
}

variable "env" {
  description = "Environment name, the env label (dev, prod)."
  type        = string
}

variable "gateway_base_document" {
  description = "The generated base Swagger 2.0 document (infra/gateway/base.json)."
  type        = string
}

variable "gateway_region" {
  description = "Region of API Gateway, which runs in fewer regions than the services (infra/README.md#region)."
  type        = string
}

variable "ingest" {
  description = "Scaling and sizing of the ingest service, and extra environment variables."
  type = object({
    concurrency           = optional(number, 80)
    cpu                   = optional(string, "1")
    environment_variables = optional(map(string), {})
    max_instances         = optional(number, 10)
    memory                = optional(string, "512Mi")
    min_instances         = optional(number, 0)
    timeout_seconds       = optional(number, 60)
  })
  default = {}
}

variable "labels" {
  description = "Extra labels; the module sets system, env and component."
  type        = map(string)
  default     = {}
}

variable "name" {
  description = "System name: the prefix of every resource name, the system label (2 to 20 lowercase letters, digits, hyphens)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,18}[a-z0-9]$", var.name)) && !startswith(var.name, "goog")
    error_message = "name must be 2 to 20 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "project_id" {
  description = "Project of the system."
  type        = string
}

variable "pubsub_service_agent" {
  description = "Pub/Sub's service agent as an IAM member (google_project_service_identity): it signs push tokens and moves dead letters."
  type        = string
}

variable "quota_requests_per_minute" {
  description = "Requests per minute each consumer project may make to the data routes."
  type        = number
  default     = 600
}

variable "region" {
  description = "Region of the services and the gateway."
  type        = string
}

variable "runtime" {
  description = "Node.js runtime of the functions (nodejs24 or nodejs22)."
  type        = string
  default     = "nodejs24"
}

variable "source_archive" {
  description = "Zip of the repository's sources in GCS, for the functions."
  type = object({
    bucket = string
    object = string
  })
}
