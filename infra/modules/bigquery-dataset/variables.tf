variable "dataset_id" {
  description = "BigQuery dataset id (letters, digits and underscores)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]{0,1023}$", var.dataset_id))
    error_message = "dataset_id takes letters, digits and underscores."
  }
}

variable "deletion_protection" {
  description = "Refuse to destroy tables and views, and keep the dataset's contents on destroy. On in prod."
  type        = bool
  default     = true
}

variable "description" {
  description = "Dataset description."
  type        = string
  default     = null
}

variable "iam" {
  description = "Dataset-level roles, role => members (authoritative for each role listed)."
  type        = map(list(string))
  default     = {}
}

variable "labels" {
  description = "Labels on every resource that takes them; must carry system, env and component."
  type        = map(string)
  validation {
    condition     = alltrue([for k in ["system", "env", "component"] : contains(keys(var.labels), k)])
    error_message = "labels must include system, env and component."
  }
}

variable "location" {
  description = "Dataset location (region or multi-region)."
  type        = string
}

variable "project_id" {
  description = "Project of the dataset."
  type        = string
}

variable "tables" {
  description = "Tables by table id: the BigQuery schema as JSON text, the partitioning column (day partitions, filter required) and the clustering columns."
  type = map(object({
    clustering      = optional(list(string), [])
    description     = optional(string)
    partition_field = string
    partition_type  = optional(string, "DAY")
    schema          = string
  }))
  default = {}
}

variable "views" {
  description = "Views by table id: the GoogleSQL query (fully qualified table names) and a description."
  type = map(object({
    description = optional(string)
    query       = string
  }))
  default = {}
}
