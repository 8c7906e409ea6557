package dev.mlserver.gateway.http;

import static dev.mlserver.gateway.Messages.clip;

import dev.mlserver.gateway.ErrorCode;
import dev.mlserver.gateway.GatewayException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * Reads a JSON request body, up to a limit, in memory. The content type and the content coding
 * are checked before the body is read: a form or multipart body is never decoded, it is a 415, and
 * so is a coding {@link EncodedBody} does not read. No Content-Type is read as JSON.
 */
public final class JsonBody implements BodyHandler {
    private final BodyHandler body;

    private JsonBody(long limit) {
        this.body = buffered(limit);
    }

    /**
     * Vert.x Web's body reader as every JSON route uses it: up to {@code limit} bytes, in memory,
     * never a file upload. The buffer is sized from {@code Content-Length} (Vert.x caps it at
     * 64 KB) instead of at 1 KB, most of which a prediction's body of a hundred bytes never used;
     * what that length may hold is reserved before the body is read (the connection layer's body
     * budget), so this allocates nothing beyond it.
     */
    public static BodyHandler buffered(long limit) {
        return BodyHandler.create(false).setBodyLimit(limit).setHandleFileUploads(false).setPreallocateBodyBuffer(true);
    }

    static JsonBody create(long limit) {
        return new JsonBody(limit);
    }

    @Override
    public void handle(RoutingContext ctx) {
        String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
        if (type != null && !Json.isJsonType(type)) {
            ctx.fail(new GatewayException(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                    "Content-Type " + clip(type) + " is not JSON; send Content-Type: application/json"));
            return;
        }
        GatewayException coding = EncodedBody.unsupported(ctx.request());
        if (coding != null) {
            ctx.fail(coding);
            return;
        }
        body.handle(ctx);
    }

    @Override
    public BodyHandler setHandleFileUploads(boolean handleFileUploads) {
        body.setHandleFileUploads(handleFileUploads);
        return this;
    }

    @Override
    public BodyHandler setBodyLimit(long bodyLimit) {
        body.setBodyLimit(bodyLimit);
        return this;
    }

    @Override
    public BodyHandler setUploadsDirectory(String uploadsDirectory) {
        body.setUploadsDirectory(uploadsDirectory);
        return this;
    }

    @Override
    public BodyHandler setMergeFormAttributes(boolean mergeFormAttributes) {
        body.setMergeFormAttributes(mergeFormAttributes);
        return this;
    }

    @Override
    public BodyHandler setDeleteUploadedFilesOnEnd(boolean deleteUploadedFilesOnEnd) {
        body.setDeleteUploadedFilesOnEnd(deleteUploadedFilesOnEnd);
        return this;
    }

    @Override
    public BodyHandler setPreallocateBodyBuffer(boolean preallocateBodyBuffer) {
        body.setPreallocateBodyBuffer(preallocateBodyBuffer);
        return this;
    }
}
