{{/* The chart's name. */}}
{{- define "cke.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The full name of the objects: release-chart, unless the release name holds the chart's. */}}
{{- define "cke.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The labels that select the pods. */}}
{{- define "cke.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cke.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The labels of every object. */}}
{{- define "cke.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cke.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The ServiceAccount the pod runs as. */}}
{{- define "cke.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cke.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the credentials: existingSecret.name, else the full name. */}}
{{- define "cke.secretName" -}}
{{- default (include "cke.fullname" .) .Values.existingSecret.name -}}
{{- end -}}

{{/* Whether the chart makes the Secret: only from secret.apiKey, never beside existingSecret.name. */}}
{{- define "cke.createSecret" -}}
{{- if and .Values.secret.apiKey (not .Values.existingSecret.name) (not .Values.organizations) }}true{{ end -}}
{{- end -}}

{{/* Where the organisations' configuration file and secrets are mounted. */}}
{{- define "cke.configDir" -}}/etc/confluent-keys-exporter/config{{- end -}}
{{- define "cke.orgSecretDir" -}}/etc/confluent-keys-exporter/organizations{{- end -}}
{{- define "cke.auditSecretDir" -}}/etc/confluent-keys-exporter/audit-log{{- end -}}

{{/* The image, its tag defaulting to the chart's appVersion. */}}
{{- define "cke.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
