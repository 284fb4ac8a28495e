{{/* Names, labels and the watched namespaces, shared by every template. */}}

{{- define "market-pipeline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the name of the operator's Deployment, ServiceAccount, RBAC and Service. */}}
{{- define "market-pipeline.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "market-pipeline.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object of the chart. */}}
{{- define "market-pipeline.labels" -}}
helm.sh/chart: {{ include "market-pipeline.chart" . }}
app.kubernetes.io/name: {{ include "market-pipeline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector of the operator's pods (immutable once the Deployment exists). */}}
{{- define "market-pipeline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "market-pipeline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "market-pipeline.operatorLabels" -}}
{{ include "market-pipeline.labels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "market-pipeline.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "market-pipeline.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "market-pipeline.leaseName" -}}
{{- default (include "market-pipeline.fullname" .) .Values.leaderElection.id }}
{{- end }}

{{/* The operator image: repository@digest when a digest is given (it wins over the tag). */}}
{{- define "market-pipeline.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The namespaces the operator reconciles, as a comma list: empty for all (cluster-wide), else
watchNamespaces or the release namespace. Fails on a cluster-wide install that names
namespaces, since its ClusterRole would grant more than WATCH_NAMESPACE uses.
*/}}
{{- define "market-pipeline.watchNamespaces" -}}
{{- if .Values.rbac.clusterWide }}
{{- if .Values.watchNamespaces }}
{{- fail "watchNamespaces applies to rbac.clusterWide=false only: set rbac.clusterWide=false to watch some namespaces, or empty watchNamespaces to watch all" }}
{{- end }}
{{- else if .Values.watchNamespaces }}
{{- join "," (uniq .Values.watchNamespaces) }}
{{- else }}
{{- .Release.Namespace }}
{{- end }}
{{- end }}

{{/* Labels of a dev server: $ is the root context, .name the server (nats, timescaledb…). */}}
{{- define "market-pipeline.devLabels" -}}
helm.sh/chart: {{ include "market-pipeline.chart" .root }}
{{ include "market-pipeline.devSelectorLabels" . }}
app.kubernetes.io/part-of: {{ include "market-pipeline.name" .root }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{- define "market-pipeline.devSelectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: dev-{{ .name }}
{{- end }}

{{/*
A dev server's password: the value if set, else the one in its existing Secret (so an
upgrade does not change it under a running database), else a new random one.
*/}}
{{- define "market-pipeline.devPassword" -}}
{{- $given := .password }}
{{- if $given }}
{{- $given }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace .secret }}
{{- if and $existing $existing.data (hasKey $existing.data "password") }}
{{- index $existing.data "password" | b64dec }}
{{- else }}
{{- randAlphaNum 24 }}
{{- end }}
{{- end }}
{{- end }}
