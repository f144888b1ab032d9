from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    DATA_LEAD = "data_lead", "Data lead"
    ML_ENGINEER = "ml_engineer", "ML engineer"
    ADMIN = "admin", "Admin"


class ProjectMembership(models.Model):
    """A user's role in one project. Without a membership a user cannot see the project at
    all (superusers excepted); what each role may do is `curation.permissions.ROLE_ACTIONS`."""

    project = models.ForeignKey(
        "curation.Project", on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.project}"
