# Keyless CI: GitHub Actions exchanges its OIDC token for short-lived credentials of one of two
# service accounts. The provider accepts tokens of one repository only, pinned by its numeric id
# (a renamed or re-created repository with the same name gets a new id and is refused); deploys
# are further pinned to one branch. No service account key exists anywhere.

locals {
  pool = google_iam_workload_identity_pool.default.name
}

resource "google_iam_workload_identity_pool" "default" {
  project                   = var.project_id
  workload_identity_pool_id = var.pool_id
  display_name              = "GitHub Actions"
  description               = "Identities of ${var.github_repository} workflows."
}

resource "google_iam_workload_identity_pool_provider" "default" {
  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.default.workload_identity_pool_id
  workload_identity_pool_provider_id = var.provider_id
  display_name                       = "GitHub ${var.github_repository}"
  attribute_mapping = {
    "google.subject"           = "assertion.sub"
    "attribute.repository"     = "assertion.repository"
    "attribute.repository_id"  = "assertion.repository_id"
    "attribute.ref"            = "assertion.ref"
    "attribute.workflow_ref"   = "assertion.workflow_ref"
    "attribute.repository_ref" = "assertion.repository_id + '@' + assertion.ref"
  }
  attribute_condition = "assertion.repository_id == '${var.github_repository_id}'"
  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account" "deploy" {
  project      = var.project_id
  account_id   = "${var.name}-deploy"
  display_name = "CI deploy (${var.github_repository}@${var.deploy_branch})"
}

resource "google_service_account" "plan" {
  project      = var.project_id
  account_id   = "${var.name}-plan"
  display_name = "CI plan, read-only (${var.github_repository} pull requests)"
}

# Only workflows running on the deploy branch may act as the deploy account.
resource "google_service_account_iam_member" "deploy" {
  service_account_id = google_service_account.deploy.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${local.pool}/attribute.repository_ref/${var.github_repository_id}@refs/heads/${var.deploy_branch}"
}

# Any workflow of the repository (pull requests included) may act as the read-only account.
resource "google_service_account_iam_member" "plan" {
  service_account_id = google_service_account.plan.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${local.pool}/attribute.repository_id/${var.github_repository_id}"
}

resource "google_project_iam_member" "deploy" {
  for_each = toset(var.deploy_roles)
  project  = var.project_id
  role     = each.value
  member   = google_service_account.deploy.member
}

# The deployment grants a few project roles to its own service accounts (e.g. BigQuery job user);
# the deploy account may grant those roles and no other.
resource "google_project_iam_member" "deploy_grants" {
  count   = length(var.deploy_grantable_roles) > 0 ? 1 : 0
  project = var.project_id
  role    = "roles/resourcemanager.projectIamAdmin"
  member  = google_service_account.deploy.member
  condition {
    title       = "only-grantable-roles"
    description = "Grant or revoke only the roles the deployment hands to its own service accounts."
    expression  = "api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly([${join(", ", [for r in var.deploy_grantable_roles : "'${r}'"])}])"
  }
}

resource "google_project_iam_member" "plan" {
  for_each = toset(var.plan_roles)
  project  = var.project_id
  role     = each.value
  member   = google_service_account.plan.member
}

# Deploys take the state lock; plans read the state without it (`terraform plan -lock=false`).
resource "google_storage_bucket_iam_member" "deploy_state" {
  bucket = var.state_bucket
  role   = "roles/storage.objectUser"
  member = google_service_account.deploy.member
}

resource "google_storage_bucket_iam_member" "plan_state" {
  bucket = var.state_bucket
  role   = "roles/storage.objectViewer"
  member = google_service_account.plan.member
}
