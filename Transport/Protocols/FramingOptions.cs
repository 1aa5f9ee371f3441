using System.Globalization;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// Limits and buffer sizes of framed connections. Protocols take a validated copy when they are created, so later
/// changes to an instance do not affect them.
/// </summary>
public sealed class FramingOptions
{
    /// <summary>Bytes of the length prefix in front of each frame on byte streams.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>The smallest allowed <see cref="MaxFrameSize"/>: a 64 KiB data chunk plus 1 KiB of headroom for headers.</summary>
    public const int MinimumMaxFrameSize = (64 * 1024) + 1024;

    /// <summary>The largest allowed <see cref="MaxFrameSize"/>; bounds what a peer can make us buffer.</summary>
    public const int MaximumMaxFrameSize = 64 * 1024 * 1024;

    /// <summary>The default <see cref="MaxFrameSize"/>: 1 MiB of data plus 4 KiB of headroom.</summary>
    public const int DefaultMaxFrameSize = (1024 * 1024) + (4 * 1024);

    /// <summary>The largest payload a connection sends or accepts. Both ends should agree.</summary>
    public int MaxFrameSize { get; set; } = DefaultMaxFrameSize;

    /// <summary>
    /// Received bytes buffered before the socket stops being read. Must hold a whole frame
    /// (at least <see cref="MaxFrameSize"/> + <see cref="LengthPrefixSize"/>). Null: twice that.
    /// </summary>
    public long? InputPauseThreshold { get; set; }

    /// <summary>Buffered received bytes below which reading resumes. Null: half the pause threshold.</summary>
    public long? InputResumeThreshold { get; set; }

    /// <summary>Unsent bytes above which <see cref="IFramedConnection.FlushAsync"/> waits. Null: the input pause default.</summary>
    public long? OutputPauseThreshold { get; set; }

    /// <summary>Unsent bytes below which a waiting flush resumes. Null: half the output pause threshold.</summary>
    public long? OutputResumeThreshold { get; set; }

    /// <summary>
    /// The smallest buffer segment rented for the pipes; half of it is the least a socket read asks for. Default
    /// 256 KiB. A record split across two segments is copied into one buffer before it is decrypted, and a full record
    /// (64 KiB plus headers) is a little larger than a 64 KiB segment, so with 64 KiB segments every bulk record would
    /// be copied; with 256 KiB about one in four is (docs/benchmarks.md). A connection holds a segment only while bytes
    /// are in flight: with <see cref="WaitForDataBeforeAllocatingBuffer"/> an idle one holds none.
    /// </summary>
    public int MinimumSegmentSize { get; set; } = 256 * 1024;

    /// <summary>How long disposing a connection may spend sending what is still buffered before the socket is cut.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long an accepted connection may take to identify itself (<c>wsh</c>) and finish its WebSocket handshake
    /// (<c>ws</c>, <c>wsh</c>) before it is dropped.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections a listener queues before they are accepted; also the most handshakes run at once.</summary>
    public int ListenBacklog { get; set; } = 512;

    /// <summary>
    /// Whether a socket waits for data to arrive before renting a receive buffer. On (the default), idle connections
    /// hold no buffer memory, at the cost of one extra system call per receive; off trims a little latency per
    /// round trip for deployments with few connections.
    /// </summary>
    public bool WaitForDataBeforeAllocatingBuffer { get; set; } = true;

    internal long EffectiveInputPauseThreshold => InputPauseThreshold ?? 2L * (MaxFrameSize + LengthPrefixSize);

    internal long EffectiveInputResumeThreshold => InputResumeThreshold ?? EffectiveInputPauseThreshold / 2;

    internal long EffectiveOutputPauseThreshold => OutputPauseThreshold ?? 2L * (MaxFrameSize + LengthPrefixSize);

    internal long EffectiveOutputResumeThreshold => OutputResumeThreshold ?? EffectiveOutputPauseThreshold / 2;

    /// <summary>Checks every setting and their relations.</summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadArg"/> naming the first invalid setting.</exception>
    public void Validate()
    {
        Require(MaxFrameSize is >= MinimumMaxFrameSize and <= MaximumMaxFrameSize, nameof(MaxFrameSize),
            $"{MaxFrameSize} is outside [{MinimumMaxFrameSize}, {MaximumMaxFrameSize}]");

        // The reader needs a whole frame in the pipe at once; a lower threshold would pause the socket forever.
        long frameBytes = (long)MaxFrameSize + LengthPrefixSize;
        Require(EffectiveInputPauseThreshold >= frameBytes, nameof(InputPauseThreshold),
            $"{EffectiveInputPauseThreshold} cannot hold a whole frame of {frameBytes} bytes");
        Require(EffectiveInputResumeThreshold >= 0 && EffectiveInputResumeThreshold <= EffectiveInputPauseThreshold,
            nameof(InputResumeThreshold), $"{EffectiveInputResumeThreshold} is outside [0, {EffectiveInputPauseThreshold}]");
        Require(EffectiveOutputPauseThreshold >= 1, nameof(OutputPauseThreshold), $"{EffectiveOutputPauseThreshold} is not positive");
        Require(EffectiveOutputResumeThreshold >= 0 && EffectiveOutputResumeThreshold <= EffectiveOutputPauseThreshold,
            nameof(OutputResumeThreshold), $"{EffectiveOutputResumeThreshold} is outside [0, {EffectiveOutputPauseThreshold}]");
        Require(MinimumSegmentSize is >= 4096 and <= 1024 * 1024, nameof(MinimumSegmentSize),
            $"{MinimumSegmentSize} is outside [4096, 1048576]");
        Require(DrainTimeout > TimeSpan.Zero || DrainTimeout == Timeout.InfiniteTimeSpan, nameof(DrainTimeout),
            $"{DrainTimeout} is not positive");
        Require(HandshakeTimeout > TimeSpan.Zero || HandshakeTimeout == Timeout.InfiniteTimeSpan, nameof(HandshakeTimeout),
            $"{HandshakeTimeout} is not positive");
        Require(ListenBacklog >= 1, nameof(ListenBacklog), $"{ListenBacklog} is not positive");
    }

    /// <summary>A validated copy with every threshold made explicit.</summary>
    internal FramingOptions ValidatedCopy()
    {
        Validate();
        return new FramingOptions
        {
            MaxFrameSize = MaxFrameSize,
            InputPauseThreshold = EffectiveInputPauseThreshold,
            InputResumeThreshold = EffectiveInputResumeThreshold,
            OutputPauseThreshold = EffectiveOutputPauseThreshold,
            OutputResumeThreshold = EffectiveOutputResumeThreshold,
            MinimumSegmentSize = MinimumSegmentSize,
            DrainTimeout = DrainTimeout,
            HandshakeTimeout = HandshakeTimeout,
            ListenBacklog = ListenBacklog,
            WaitForDataBeforeAllocatingBuffer = WaitForDataBeforeAllocatingBuffer,
        };
    }

    private static void Require(bool condition, string setting, string problem)
    {
        if (!condition)
        {
            throw new FlowException(
                FlowErrorCode.BadArg,
                string.Create(CultureInfo.InvariantCulture, $"Invalid {nameof(FramingOptions)}.{setting}: {problem}."));
        }
    }
}
