package dev.cvmkms.kms.ops;

import dev.cvmkms.kms.ops.ListenerGuard.Cause;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ServerChannel;
import io.vertx.core.Vertx;
import io.vertx.core.impl.transports.NioTransport;
import io.vertx.core.internal.VertxInternal;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The connection caps applied where a connection is accepted, before any byte of TLS. Vert.x hands
 * a TLS connection to user code only after its handshake, so a guard there does not see a flood of
 * connections that never start one: each holds a file descriptor for up to the handshake deadline,
 * and 5,000 of them from one address exhausted a 1,024 fd limit (refused accepts, cuts minutes
 * late). This handler sits in each server channel's pipeline ahead of Netty's acceptor and closes a
 * connection over its listener's caps on the spot, so fds stay within the caps whatever the clients
 * do. O(1) per connection.
 *
 * <p>Vert.x offers no public hook ahead of TLS; the one used is its transport SPI ({@link
 * #transport()} for {@code VertxBuilder.withTransport}): the NIO transport, unchanged except that
 * each server channel it creates carries this handler. {@code AcceptGateTest} pins that it works.
 */
@ChannelHandler.Sharable
public final class AcceptGate extends ChannelInboundHandlerAdapter {
  private final Map<Integer, Caps> ports = new ConcurrentHashMap<>();

  /** The Vert.x transport whose server channels pass through a fresh gate. */
  public static io.vertx.core.transport.Transport transport() {
    return new GatedTransport(new GatedNio(new AcceptGate()));
  }

  /** The gate of {@code vertx}'s transport, when it was built with {@link #transport()}. */
  static Optional<AcceptGate> of(Vertx vertx) {
    if (vertx instanceof VertxInternal internal && internal.transport() instanceof GatedNio nio) {
      return Optional.of(nio.gate);
    }
    return Optional.empty();
  }

  /**
   * Caps the listener bound to {@code port}: at most {@code max} open connections, {@code
   * perAddress} of them from one remote address; {@code cut} counts each refused connection.
   */
  void limit(int port, int max, int perAddress, Consumer<Cause> cut) {
    ports.put(port, new Caps(max, perAddress, cut));
  }

  /** Connections the gate holds open on {@code port} (tests). */
  int open(int port) {
    Caps caps = ports.get(port);
    return caps == null ? 0 : caps.open.get();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Channel child
        && ctx.channel().localAddress() instanceof InetSocketAddress local) {
      Caps caps = ports.get(local.getPort());
      if (caps != null && !caps.admit(child)) {
        // Not registered with an event loop yet: close the socket itself, as Netty's acceptor
        // does for a child it cannot register.
        child.unsafe().closeForcibly();
        return;
      }
    }
    ctx.fireChannelRead(msg);
  }

  /** One listener's caps and counts; touched from its acceptor and its connections' loops. */
  private static final class Caps {
    final int max;
    final int perAddress;
    final Consumer<Cause> cut;
    final AtomicInteger open = new AtomicInteger();
    final Map<String, Integer> byAddress = new ConcurrentHashMap<>();

    Caps(int max, int perAddress, Consumer<Cause> cut) {
      this.max = max;
      this.perAddress = perAddress;
      this.cut = cut;
    }

    boolean admit(Channel child) {
      String host =
          child.remoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null
              ? remote.getAddress().getHostAddress()
              : "?";
      if (open.incrementAndGet() > max) {
        open.decrementAndGet();
        cut.accept(Cause.TOO_MANY_CONNECTIONS);
        return false;
      }
      if (byAddress.merge(host, 1, Integer::sum) > perAddress) {
        release(host);
        cut.accept(Cause.TOO_MANY_FROM_ADDRESS);
        return false;
      }
      child.closeFuture().addListener(f -> release(host));
      return true;
    }

    void release(String host) {
      open.decrementAndGet();
      byAddress.computeIfPresent(host, (k, n) -> n <= 1 ? null : n - 1);
    }
  }

  /** Vert.x's NIO transport (so Vert.x still treats it as NIO) with gated server channels. */
  private static final class GatedNio extends NioTransport {
    final AcceptGate gate;

    GatedNio(AcceptGate gate) {
      this.gate = gate;
    }

    @Override
    public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
      ChannelFactory<? extends ServerChannel> plain = super.serverChannelFactory(domainSocket);
      if (domainSocket) {
        return plain;
      }
      return () -> {
        ServerChannel channel = plain.newChannel();
        // First in the pipeline: Netty's ServerBootstrap adds its acceptor after it.
        channel.pipeline().addLast("cvmkms-accept-gate", gate);
        return channel;
      };
    }
  }

  private record GatedTransport(GatedNio implementation)
      implements io.vertx.core.transport.Transport {
    @Override
    public String name() {
      return "nio";
    }

    @Override
    public boolean available() {
      return true;
    }

    @Override
    public @Nullable Throwable unavailabilityCause() {
      return null;
    }
  }
}
