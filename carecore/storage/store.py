"""Every collection the core uses, opened on one database."""

from __future__ import annotations

from carecore.storage.agencies import AgencyStore
from carecore.storage.ai_services import AiServiceStore
from carecore.storage.alert_preferences import PreferenceStore
from carecore.storage.alert_requests import AlertRequestStore
from carecore.storage.audit import AuditStore
from carecore.storage.callouts import CalloutStore
from carecore.storage.care_plans import CarePlanStore
from carecore.storage.caregivers import CaregiverProfileStore, CaregiverScheduleStore
from carecore.storage.database import Db
from carecore.storage.devices import DeviceStore
from carecore.storage.events import EventStore
from carecore.storage.export_reads import ExportReads
from carecore.storage.fhir_exports import FhirExportStore
from carecore.storage.health_thresholds import HealthThresholdStore
from carecore.storage.incident_flags import IncidentFlagStore
from carecore.storage.incident_policies import IncidentPolicyStore
from carecore.storage.incidents import IncidentStore
from carecore.storage.notifications import NotificationStore
from carecore.storage.observations import ObservationStore
from carecore.storage.people import PersonStore
from carecore.storage.reachability import ContactStore, ReachabilitySettingsStore, ReachabilityStore
from carecore.storage.secrets import DEV_KEYRING, Keyring
from carecore.storage.shifts import ShiftStore
from carecore.storage.trusted_documents import TrustedDocumentStore
from carecore.storage.users import UserStore


class Store:
    def __init__(self, db: Db, *, keyring: Keyring = DEV_KEYRING) -> None:
        # The keyring seals secrets at rest; the app passes the environment's (app/settings.py), which
        # production requires. The default is development's public key.
        self.db = db
        self.agencies = AgencyStore(db)
        self.users = UserStore(db)
        self.people = PersonStore(db)
        self.care_plans = CarePlanStore(db)
        self.audit = AuditStore(db)
        self.events = EventStore(db)
        self.alert_requests = AlertRequestStore(db)
        self.devices = DeviceStore(db)
        self.notification_preferences = PreferenceStore(db)
        self.notifications = NotificationStore(db)
        self.callouts = CalloutStore(db)
        self.incidents = IncidentStore(db)
        self.incident_flags = IncidentFlagStore(db)
        self.incident_policies = IncidentPolicyStore(db)
        self.ai_services = AiServiceStore(db, keyring)
        self.shifts = ShiftStore(db)
        self.caregiver_profiles = CaregiverProfileStore(db)
        self.caregiver_schedules = CaregiverScheduleStore(db)
        self.observations = ObservationStore(db)
        self.health_thresholds = HealthThresholdStore(db)
        self.reachability = ReachabilityStore(db)
        self.reachability_contacts = ContactStore(db)
        self.reachability_settings = ReachabilitySettingsStore(db)
        self.export_reads = ExportReads(db)
        self.fhir_exports = FhirExportStore(db)
        self.trusted_documents = TrustedDocumentStore(db)
