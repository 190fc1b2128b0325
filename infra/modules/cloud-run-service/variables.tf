variable "concurrency" {
  description = "Requests one instance serves at once."
  type        = number
  default     = 80
}

variable "cpu" {
  description = "vCPUs per instance."
  type        = string
  default     = "1"
}

variable "deletion_protection" {
  description = "Refuse to destroy the service. On in prod."
  type        = bool
  default     = true
}

variable "description" {
  description = "Service description."
  type        = string
  default     = null
}

variable "entry_point" {
  description = "Entry point the image runs (its argument): ingest or api."
  type        = string
  validation {
    condition     = contains(["ingest", "api"], var.entry_point)
    error_message = "entry_point is ingest or api."
  }
}

variable "environment_variables" {
  description = "Environment variables (src/config.ts reads them); HOST is set to 0.0.0.0."
  type        = map(string)
  default     = {}
}

variable "iam_propagation" {
  description = "How long to wait after granting the runtime account its secrets before creating the service (a Terraform duration)."
  type        = string
  default     = "120s"
}

variable "image" {
  description = "Container image built from the repository's Dockerfile, preferably by digest."
  type        = string
}

variable "ingress" {
  description = "INGRESS_TRAFFIC_INTERNAL_ONLY (same project, e.g. Pub/Sub push), INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER or INGRESS_TRAFFIC_ALL (IAM still applies)."
  type        = string
  default     = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  validation {
    condition     = contains(["INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "INGRESS_TRAFFIC_ALL"], var.ingress)
    error_message = "ingress is one of the INGRESS_TRAFFIC_* values."
  }
}

variable "invokers" {
  description = "Members allowed to invoke the service (roles/run.invoker); nobody else can."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.invokers : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "The service is never public."
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

variable "max_instances" {
  description = "Most instances the service scales to."
  type        = number
  default     = 10
}

variable "memory" {
  description = "Memory per instance (e.g. 512Mi)."
  type        = string
  default     = "512Mi"
}

variable "min_instances" {
  description = "Instances kept warm (0 scales to zero)."
  type        = number
  default     = 0
}

variable "name" {
  description = "Service name, also its service account id (6 to 30 characters)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.name))
    error_message = "name must be 6 to 30 lowercase letters, digits or hyphens."
  }
}

variable "project_id" {
  description = "Project of the service."
  type        = string
}

variable "region" {
  description = "Region of the service."
  type        = string
}

variable "secret_environment_variables" {
  description = "Environment variables read from Secret Manager, name => secret id and version; the runtime account gets access to each secret."
  type = map(object({
    secret  = string
    version = optional(string, "latest")
  }))
  default = {}
}

variable "timeout_seconds" {
  description = "Longest a request may run."
  type        = number
  default     = 60
}
