FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY contact_center ./contact_center
COPY routing ./routing
COPY signalling ./signalling
COPY dashboard ./dashboard
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["contact-center", "serve", "--host", "0.0.0.0", "--port", "8000"]
