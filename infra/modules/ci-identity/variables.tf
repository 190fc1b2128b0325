variable "deploy_branch" {
  description = "The only branch whose workflows may deploy."
  type        = string
  default     = "main"
}

variable "deploy_grantable_roles" {
  description = "Project roles the deploy account may grant (through a conditioned roles/resourcemanager.projectIamAdmin)."
  type        = list(string)
  default     = []
}

variable "deploy_roles" {
  description = "Project roles of the deploy account: what applying the env roots needs, no owner or editor."
  type        = list(string)
  validation {
    condition     = length(setintersection(var.deploy_roles, ["roles/owner", "roles/editor"])) == 0
    error_message = "The deploy account gets specific roles, never owner or editor."
  }
}

variable "github_repository" {
  description = "owner/name of the repository, for names and descriptions (the condition uses the id)."
  type        = string
}

variable "github_repository_id" {
  description = "Numeric id of the GitHub repository (`gh api repos/OWNER/NAME --jq .id`)."
  type        = string
  validation {
    condition     = can(regex("^[0-9]+$", var.github_repository_id))
    error_message = "github_repository_id is the numeric repository id, not its name."
  }
}

variable "name" {
  description = "Prefix of the service account ids (<name>-deploy, <name>-plan)."
  type        = string
  default     = "ci"
}

variable "plan_roles" {
  description = "Project roles of the read-only account that plans pull requests."
  type        = list(string)
  default     = ["roles/viewer", "roles/iam.securityReviewer"]
}

variable "pool_id" {
  description = "Workload Identity pool id."
  type        = string
  default     = "github"
}

variable "project_id" {
  description = "Project holding the pool and the CI service accounts."
  type        = string
}

variable "provider_id" {
  description = "Workload Identity pool provider id."
  type        = string
  default     = "github"
}

variable "state_bucket" {
  description = "Terraform state bucket: the deploy account reads and locks it, the plan account only reads it."
  type        = string
}
