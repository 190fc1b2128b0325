variable "build_service_account" {
  description = "Id (projects/<p>/serviceAccounts/<email>) of the service account Cloud Build runs the function's build as, once it can read the sources and write the registry and logs."
  type        = string
}

variable "concurrency" {
  description = "Requests one instance serves at once; ingest micro-batches across them, so more than 1 matters."
  type        = number
  default     = 80
}

variable "cpu" {
  description = "vCPUs per instance (at least 1 when concurrency is above 1)."
  type        = string
  default     = "1"
}

variable "description" {
  description = "Function description."
  type        = string
  default     = null
}

variable "docker_repository" {
  description = "Artifact Registry repository for the built image (projects/<p>/locations/<l>/repositories/<r>); null uses gcf-artifacts."
  type        = string
  default     = null
}

variable "entry_point" {
  description = "ducto entry point the function runs: ingest or api."
  type        = string
  validation {
    condition     = contains(["ingest", "api"], var.entry_point)
    error_message = "entry_point is ingest or api (src/entry/functions.ts)."
  }
}

variable "environment_variables" {
  description = "Runtime environment variables (src/config.ts reads them)."
  type        = map(string)
  default     = {}
}

variable "iam_propagation" {
  description = "How long to wait after granting the runtime account its secrets before creating the function (a Terraform duration)."
  type        = string
  default     = "120s"
}

variable "ingress_settings" {
  description = "Who can reach the function over the network: ALLOW_INTERNAL_ONLY (same project, e.g. Pub/Sub push), ALLOW_INTERNAL_AND_GCLB, or ALLOW_ALL (IAM still applies)."
  type        = string
  default     = "ALLOW_INTERNAL_ONLY"
  validation {
    condition     = contains(["ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB", "ALLOW_ALL"], var.ingress_settings)
    error_message = "ingress_settings is ALLOW_INTERNAL_ONLY, ALLOW_INTERNAL_AND_GCLB or ALLOW_ALL."
  }
}

variable "invokers" {
  description = "Members allowed to invoke the function (roles/run.invoker); nobody else can."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.invokers : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "The function is never public."
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
  description = "Most instances the function scales to."
  type        = number
  default     = 10
}

variable "memory" {
  description = "Memory per instance (e.g. 512Mi, 1Gi)."
  type        = string
  default     = "512Mi"
}

variable "min_instances" {
  description = "Instances kept warm (0 scales to zero)."
  type        = number
  default     = 0
}

variable "name" {
  description = "Function name, also its runtime service account id (6 to 30 characters)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.name))
    error_message = "name must be 6 to 30 lowercase letters, digits or hyphens."
  }
}

variable "project_id" {
  description = "Project of the function."
  type        = string
}

variable "region" {
  description = "Region of the function."
  type        = string
}

variable "runtime" {
  description = "Node.js runtime: nodejs24 or nodejs22 (nodejs20 is decommissioned)."
  type        = string
  default     = "nodejs24"
  validation {
    condition     = contains(["nodejs22", "nodejs24"], var.runtime)
    error_message = "runtime must be nodejs22 or nodejs24."
  }
}

variable "secret_environment_variables" {
  description = "Environment variables read from Secret Manager, name => secret id and version; the runtime account gets access to each secret."
  type = map(object({
    secret  = string
    version = optional(string, "latest")
  }))
  default = {}
}

variable "source_archive" {
  description = "Zip of the repository's sources in GCS (package.json, lock file, src/, schemas/); the build runs npm ci and gcp-build."
  type = object({
    bucket = string
    object = string
  })
}

variable "timeout_seconds" {
  description = "Longest a request may run."
  type        = number
  default     = 60
}
