variable "api_keys" {
  description = "API keys to create in this project, restricted to this API, by short name (e.g. canary)."
  type = map(object({
    display_name = optional(string)
  }))
  default = {}
}

variable "consumers" {
  description = "Members (e.g. group:<a partner group of your domain>) allowed to enable the API in their own project and call it with their own keys."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.consumers : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "Consumers are named principals."
  }
}

variable "labels" {
  description = "Labels on every resource that takes them; must carry system, env and component."
  type        = map(string)
  validation {
    condition     = alltrue([for k in ["system", "env", "component"] : contains(keys(var.labels), k)])
    error_message = "labels must include system, env and component."
  }
}

variable "name" {
  description = "API id; the gateway, its configs, its service account and its keys are named after it."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}[a-z0-9]$", var.name))
    error_message = "name must be 2 to 22 lowercase letters, digits or hyphens."
  }
}

variable "project_id" {
  description = "Project of the gateway."
  type        = string
}

variable "region" {
  description = "Region of the gateway: one of the locations API Gateway runs in (https://cloud.google.com/api-gateway/docs/deployment-model); none is in Latin America."
  type        = string
  validation {
    condition     = contains(["asia-northeast1", "australia-southeast1", "europe-west1", "europe-west2", "us-central1", "us-east1", "us-east4", "us-west2", "us-west3", "us-west4"], var.region)
    error_message = "API Gateway runs in asia-northeast1, australia-southeast1, europe-west1, europe-west2, us-central1, us-east1, us-east4, us-west2, us-west3 and us-west4 only."
  }
}

variable "spec" {
  description = "The Swagger 2.0 document (JSON text) with x-google-backend, security definitions and quotas (the gateway-spec module builds it)."
  type        = string
}
