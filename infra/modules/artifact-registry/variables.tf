variable "description" {
  description = "Repository description."
  type        = string
  default     = "ducto images"
}

variable "immutable_tags" {
  description = "Refuse to move a tag once pushed (images are deployed by digest or commit tag)."
  type        = bool
  default     = false
}

variable "keep_count" {
  description = "Most recent versions of each image kept whatever their age."
  type        = number
  default     = 10
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
  description = "Repository region."
  type        = string
}

variable "name" {
  description = "Repository id."
  type        = string
}

variable "project_id" {
  description = "Project of the repository."
  type        = string
}

variable "readers" {
  description = "Members that pull images (roles/artifactregistry.reader on this repository)."
  type        = list(string)
  default     = []
}

variable "untagged_retention_days" {
  description = "Days an untagged image version is kept, unless among the most recent."
  type        = number
  default     = 30
}

variable "writers" {
  description = "Members that push images (roles/artifactregistry.writer on this repository), e.g. the build account."
  type        = list(string)
  default     = []
}
