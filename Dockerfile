FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY contact_center ./contact_center
COPY routing ./routing
COPY signalling ./signalling
COPY dashboard ./dashboard
# Exactly the versions CI tested (requirements.lock), then the project itself.
RUN pip install --no-cache-dir --require-hashes -r requirements.lock && pip install --no-cache-dir --no-deps .
EXPOSE 8000
CMD ["contact-center", "serve", "--host", "0.0.0.0", "--port", "8000"]
