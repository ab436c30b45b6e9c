FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY callrouter ./callrouter
COPY crm_core ./crm_core
COPY routing ./routing
COPY pbx_bridge ./pbx_bridge
RUN pip install --no-cache-dir .
ENV CALLROUTER_API_BIND=0.0.0.0:8000 CALLROUTER_AGI_BIND=0.0.0.0:4573
EXPOSE 8000 4573
CMD ["sh", "-c", "callrouter db upgrade && callrouter serve"]
