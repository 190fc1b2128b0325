variable "alert_page_channels" {
  description = "Notification channel ids of the alerts that page (burn rates at 14.4x and 6x of the paging SLOs, backlog age, writer pending)."
  type        = list(string)
  default     = []
}

variable "alert_ticket_channels" {
  description = "Notification channel ids of the alerts that open a ticket (slow burns, correctness, warehouse latency, dead letters, rejections, warehouse errors, bytes billed)."
  type        = list(string)
  default     = []
}

variable "bigquery_location" {
  description = "Location of the BigQuery datasets; null puts them in var.region."
  type        = string
  default     = null
}

variable "container_image" {
  description = "The image CI built and pushed for this commit (deploy-env.yml sets it); systems with compute = \"cloud-run\" run it unless they name their own."
  type        = string
  default     = null
}

variable "gateway_region" {
  description = "Region of API Gateway, which runs in fewer regions than the services (infra/README.md#region)."
  type        = string
  default     = "us-east1"
}

variable "iam_propagation" {
  description = "How long to wait after IAM grants that a create checks at once (function builds, service agents), a Terraform duration."
  type        = string
  default     = "120s"
}

variable "labels" {
  description = "Extra labels on every system's resources (system, env and component are set by the modules)."
  type        = map(string)
  default     = {}
}

variable "project_id" {
  description = "Project of this environment (CI passes it; npm run deploy:bootstrap prints it as a GitHub variable)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id)) && !can(regex("(?i)(^|[-_/])(0{4,}|x{3,}|example|changeme|placeholder|your-?project|my-?project|project-?id|owner)([-_/]|$)", var.project_id))
    error_message = "project_id must be the id of your own Google Cloud project, not a placeholder copied from an example."
  }
}

variable "region" {
  description = "Region of the services, the data, the sources bucket and the image repository (infra/README.md#region)."
  type        = string
  default     = "southamerica-east1"
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
