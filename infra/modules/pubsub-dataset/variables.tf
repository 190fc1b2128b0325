variable "ack_deadline_seconds" {
  description = "Seconds Pub/Sub waits for the ingest endpoint to answer a push before redelivering."
  type        = number
  default     = 60
}

variable "avro_schema" {
  description = "Avro schema (JSON text) the topic enforces on published messages, in JSON encoding: infra/generated/<dataset>/pubsub-schema.avsc."
  type        = string
}

variable "labels" {
  description = "Labels on every resource that takes them; must carry system, env and component."
  type        = map(string)
  validation {
    condition     = alltrue([for k in ["system", "env", "component"] : contains(keys(var.labels), k)])
    error_message = "labels must include system, env and component."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of a message before it moves to the dead-letter topic (5 to 100)."
  type        = number
  default     = 5
  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "Pub/Sub accepts 5 to 100 delivery attempts."
  }
}

variable "maximum_backoff_seconds" {
  description = "Longest wait between redeliveries of a message the ingest endpoint did not acknowledge (at most 600)."
  type        = number
  default     = 600
}

variable "minimum_backoff_seconds" {
  description = "Shortest wait between redeliveries of a message the ingest endpoint did not acknowledge."
  type        = number
  default     = 10
}

variable "name" {
  description = "Topic id (`<system>-<dataset>`); the dead-letter topic and the subscriptions are named after it, and ingest finds the dataset from its last segment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*-[a-z][a-z0-9_]*$", var.name)) && !startswith(var.name, "goog") && length(var.name) <= 200
    error_message = "name must be <system>-<dataset>, lowercase, not starting with goog."
  }
}

variable "project_id" {
  description = "Project of the topics and subscriptions."
  type        = string
}

variable "push" {
  description = "Where and as whom the subscription pushes: the ingest service URL, the OIDC token's service account and audience, and the query naming the dataset (null: the path names the topic, as the functions framework wants)."
  type = object({
    audience              = string
    query                 = optional(string)
    service_account_email = string
    url                   = string
  })
}

variable "retention_days" {
  description = "Days the subscriptions keep messages, acknowledged ones included, so a seek can replay them (at most 7)."
  type        = number
  default     = 7
  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 7
    error_message = "Subscriptions retain messages 1 to 7 days."
  }
}

variable "service_agent" {
  description = "Pub/Sub's service agent as an IAM member (google_project_service_identity), which moves dead letters."
  type        = string
}

variable "storage_regions" {
  description = "Regions where Pub/Sub may store the topics' messages at rest (message storage policy); empty lets Pub/Sub choose."
  type        = list(string)
  default     = []
}
