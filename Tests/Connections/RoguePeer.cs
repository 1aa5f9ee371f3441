using System.Buffers;
using System.Collections.Concurrent;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Records;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// A peer that completes a genuine handshake and then writes whatever records a test wants: a misbehaving but
/// authenticated implementation, to check that the connection rejects each protocol violation cleanly.
/// </summary>
internal sealed class RoguePeer(IFramedConnection framed, HandshakeResult session) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<ulong, long> _granted = new();
    private Task? _tracker;

    public static async Task<(RoguePeer Rogue, Task<ManagedConnection> Victim, IAsyncDisposable Listener)> ConnectAsync(
        System.Threading.Channels.ChannelWriter<Transport.Flows.IFlow> accepted,
        ConnectionOptions? victimOptions = null,
        bool victimAcknowledgementsRide = false)
    {
        var (dialed, acceptedFramed, listener) = await ConnectionTestKit.FramedPairAsync("memory");
        var victimPrincipal = ConnectionTestKit.NewPrincipal("victim");
        var victim = ManagedConnection.AcceptAsync(acceptedFramed, new ConnectionSettings
        {
            Principal = victimPrincipal,
            Authorizer = PeerAuthorizers.AllowEveryone(victimPrincipal),
            LocalEndpoint = ConnectionTestKit.LocalEndpoint(),
            AcceptedFlows = accepted,
            Options = victimOptions ?? new ConnectionOptions(),
            AcknowledgementsRideWithReplies = victimAcknowledgementsRide,
        });
        var roguePrincipal = ConnectionTestKit.NewPrincipal("rogue");
        var session = await Handshake.RunAsync(dialed, HandshakeRole.Dialer, new ConnectionSettings
        {
            Principal = roguePrincipal,
            Authorizer = PeerAuthorizers.AllowEveryone(roguePrincipal),
            LocalEndpoint = ConnectionTestKit.LocalEndpoint(),
            Options = new ConnectionOptions(),
        }, CancellationToken.None);
        return (new RoguePeer(dialed, session), victim, listener);
    }

    /// <summary>Dials <paramref name="server"/> over tcp and completes a genuine handshake with whatever listens there.</summary>
    public static async Task<RoguePeer> DialAsync(Endpoint server)
    {
        var dialed = await new TcpProtocol().DialAsync("tcp", server.Address, ConnectionTestKit.TestTimeout);
        var principal = ConnectionTestKit.NewPrincipal("rogue");
        var session = await Handshake.RunAsync(dialed, HandshakeRole.Dialer, new ConnectionSettings
        {
            Principal = principal,
            Authorizer = PeerAuthorizers.AllowEveryone(principal),
            LocalEndpoint = Endpoint.Create("tcp", "rogue", RoutingId.NewRandom()),
            RemoteEndpoint = server,
            Options = new ConnectionOptions(),
        }, CancellationToken.None);
        return new RoguePeer(dialed, session);
    }

    /// <summary>The routing ID the rogue presented: how the other side's connection to it is found.</summary>
    public RoutingId RoutingId => session.LocalEndpoint.RoutingId;

    /// <summary>Records sent so far.</summary>
    public long RecordsSent { get; private set; }

    /// <summary>Seals the messages into one record and sends it; returns the exact frame bytes sent.</summary>
    public async Task<byte[]> SendAsync(params Message[] messages)
    {
        var plaintext = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            MessageCodec.Write(plaintext, message);
        }

        return await SendPlaintextAsync(plaintext.WrittenMemory);
    }

    /// <summary>Seals <paramref name="plaintext"/> (encoded messages) into one record and sends it.</summary>
    public async Task<byte[]> SendPlaintextAsync(ReadOnlyMemory<byte> plaintext)
    {
        var frame = new byte[plaintext.Length + RecordLayout.TagSize];
        session.SendCipher.Seal(plaintext.Span, frame);
        await SendRawAsync(frame);
        RecordsSent++;
        return frame;
    }

    /// <summary>Sends <paramref name="message"/> <paramref name="count"/> times, packed into records of about 64 KiB.</summary>
    public async Task SendRepeatedAsync(Message message, long count)
    {
        var one = new ArrayBufferWriter<byte>();
        MessageCodec.Write(one, message);
        var perRecord = (int)Math.Min(count, (64 * 1024) / one.WrittenCount);
        var record = new byte[perRecord * one.WrittenCount];
        for (var i = 0; i < perRecord; i++)
        {
            one.WrittenSpan.CopyTo(record.AsSpan(i * one.WrittenCount));
        }

        for (var left = count; left > 0; left -= perRecord)
        {
            var n = (int)Math.Min(left, perRecord);
            await SendPlaintextAsync(record.AsMemory(0, n * one.WrittenCount));
        }
    }

    /// <summary>
    /// Starts reading everything the other side sends, keeping the credit its releases grant per flow, so the rogue can
    /// behave on some flows (<see cref="WaitForCreditAsync"/>) while it misbehaves on others.
    /// </summary>
    public void TrackCredit() => _tracker ??= Task.Run(TrackCreditAsync);

    /// <summary>Waits until the other side has granted <paramref name="bytes"/> in all on <paramref name="flowId"/>.</summary>
    public Task WaitForCreditAsync(ulong flowId, long bytes) =>
        ConnectionTestKit.WaitUntilAsync(() => _granted.TryGetValue(flowId, out var granted) && granted >= bytes,
            () => $"flow {flowId} was granted {_granted.GetValueOrDefault(flowId)} bytes, not {bytes}");

    /// <summary>What the other side granted on <paramref name="flowId"/> so far (its acknowledgement included).</summary>
    public long Granted(ulong flowId) => _granted.GetValueOrDefault(flowId);

    private async Task TrackCreditAsync()
    {
        while (await ReadMessagesAsync() is { } messages)
        {
            foreach (var release in messages.OfType<Release>())
            {
                foreach (var credit in release.Credits)
                {
                    _granted.AddOrUpdate(credit.FlowId, (long)credit.Bytes, (_, granted) => granted + (long)credit.Bytes);
                }
            }
        }
    }

    /// <summary>The messages of the next record; null when the connection ended.</summary>
    private async Task<List<Message>?> ReadMessagesAsync(CancellationToken cancellationToken = default)
    {
        FrameReadResult frame;
        try
        {
            frame = await framed.ReadFrameAsync(cancellationToken);
        }
        catch (Transport.FlowException)
        {
            return null;
        }

        if (frame.IsCompleted)
        {
            return null;
        }

        var record = frame.Payload.ToArray();
        var plaintext = new byte[record.Length - RecordLayout.TagSize];
        session.ReceiveCipher.Open(record, plaintext);
        var messages = new List<Message>();
        var input = new ReadOnlySequence<byte>(plaintext);
        while (!input.IsEmpty && MessageCodec.TryRead(input, RecordLayout.MaxPlaintext, out var message, out var consumed))
        {
            messages.Add(message);
            input = input.Slice(consumed);
        }

        return messages;
    }

    /// <summary>Sends a frame as is: replayed, forged or plaintext.</summary>
    public async Task SendRawAsync(byte[] frame)
    {
        frame.CopyTo(framed.GetFrameBuffer(frame.Length));
        framed.CommitFrame();
        await framed.FlushAsync();
    }

    /// <summary>Reads records until a TearDown arrives (or the connection ends) and returns it.</summary>
    public Task<TearDown?> ReadTearDownAsync() => ReadUntilAsync<TearDown>();

    /// <summary>Reads records until a message of type <typeparamref name="T"/> arrives (or the connection ends) and returns it.</summary>
    public async Task<T?> ReadUntilAsync<T>(Func<T, bool>? match = null)
        where T : Message
    {
        using var timeout = new CancellationTokenSource(ConnectionTestKit.TestTimeout);
        while (await ReadMessagesAsync(timeout.Token) is { } messages)
        {
            if (messages.OfType<T>().FirstOrDefault(m => match is null || match(m)) is { } wanted)
            {
                return wanted;
            }
        }

        return null;
    }

    public async ValueTask DisposeAsync() => await framed.DisposeAsync();
}
