package dev.mlserver.gateway.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The pipeline of a gRPC connection on a real (in-process) Netty transport: what reaches the socket is counted. */
class Http2FlushesTest {
    private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    private final AtomicInteger flushes = new AtomicInteger();
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private final CompletableFuture<Channel> accepted = new CompletableFuture<>();
    private Channel server;
    private Channel client;

    @BeforeEach
    void connect() throws Exception {
        LocalAddress address = new LocalAddress("http2-flushes-" + UUID.randomUUID());
        server = new ServerBootstrap().group(loops).channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        Http2Flushes.install(channel.pipeline());
                        channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
                            @Override
                            public void flush(ChannelHandlerContext ctx) {
                                flushes.incrementAndGet();
                                ctx.flush();
                            }
                        });
                        // how Vert.x writes a gRPC answer while reading a request: two frames, each flushed
                        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object request) {
                                ((ByteBuf) request).release();
                                ctx.writeAndFlush(frame("headers and message"));
                                ctx.writeAndFlush(frame("trailers"));
                            }
                        });
                        accepted.complete(channel);
                    }
                }).bind(address).sync().channel();
        client = new Bootstrap().group(loops).channel(LocalChannel.class).handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object frame) {
                received.add(((ByteBuf) frame).toString(StandardCharsets.UTF_8));
                ((ByteBuf) frame).release();
            }
        }).connect(address).sync().channel();
    }

    @AfterEach
    void close() throws Exception {
        client.close().sync();
        server.close().sync();
        loops.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    }

    @Test
    void anAnswerWrittenFromATaskLeavesInOneFlushAfterTheTask() throws Exception {
        Channel connection = accepted.get(10, TimeUnit.SECONDS);

        // how Vert.x writes a gRPC answer when the prediction returns: two frames, each flushed
        int flushedInTask = connection.eventLoop().submit(() -> {
            connection.pipeline().writeAndFlush(frame("headers and message"));
            connection.pipeline().writeAndFlush(frame("trailers"));
            return flushes.get();
        }).get(10, TimeUnit.SECONDS);

        assertEquals(0, flushedInTask, "put off while the task runs");
        assertEquals("headers and messagetrailers", receive("headers and messagetrailers".length()));
        assertEquals(1, flushes.get());
    }

    @Test
    void answersForSeveralStreamsWrittenInOneTaskShareTheFlush() throws Exception {
        Channel connection = accepted.get(10, TimeUnit.SECONDS);

        connection.eventLoop().submit(() -> {
            for (int stream = 1; stream <= 3; stream++) {
                connection.pipeline().writeAndFlush(frame("answer " + stream));
                connection.pipeline().writeAndFlush(frame("trailers " + stream));
            }
        }).get(10, TimeUnit.SECONDS);

        String all = "answer 1trailers 1answer 2trailers 2answer 3trailers 3";
        assertEquals(all, receive(all.length()));
        assertEquals(1, flushes.get());
    }

    @Test
    void anAnswerWrittenWhileReadingLeavesOnceTheReadCompletes() throws Exception {
        client.writeAndFlush(frame("request")).sync();

        assertEquals("headers and messagetrailers", receive("headers and messagetrailers".length()));
        assertEquals(1, flushes.get());
    }

    /** What the client has received once it has {@code length} characters (or after 10 s). */
    private String receive(int length) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (text.length() < length && System.nanoTime() < deadline) {
            String frame = received.poll(100, TimeUnit.MILLISECONDS);
            if (frame != null) {
                text.append(frame);
            }
        }
        return text.toString();
    }

    private static ByteBuf frame(String text) {
        return Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
    }
}
