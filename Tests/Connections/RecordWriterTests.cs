using System.Buffers;
using System.Net;
using FlowOrleans.Tests.Flows;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// The record writer on its own, over a framed connection that keeps what it is given: what goes into a record and in
/// which order, when records are flushed, and how writing ends.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class RecordWriterTests : IDisposable
{
    private static readonly byte[] Key = new byte[32];
    private static readonly byte[] Iv = new byte[12];

    private readonly FakeFlowConnection _flows = new();
    private readonly ConnectionCounters _counters = new();
    private readonly CreditLedger _ledger;
    private readonly SendQueue _queue;
    private readonly CapturingFramedConnection _framed = new();
    private readonly Host _host = new();
    private readonly RecordCipher _seal = new(CipherSuite.Aes256Gcm, Key, Iv);
    private readonly RecordCipher _open = new(CipherSuite.Aes256Gcm, Key, Iv);

    public RecordWriterTests()
    {
        _ledger = new CreditLedger(new ConnectionOptions(), _counters, peerSharedCredit: 256 * 1024);
        _queue = new SendQueue(_ledger, _counters);
    }

    public void Dispose()
    {
        _seal.Dispose();
        _open.Dispose();
    }

    private RecordWriter NewWriter(int remoteMtu = 64 * 1024) => new(_host, _framed, _seal, _queue, _ledger, _counters, remoteMtu);

    [Fact]
    public async Task ARecordCarriesCreditFirstThenControlThenData()
    {
        var writer = NewWriter();
        var flow = _flows.NewFlow(2, isLocal: false, credit: 1000);
        _queue.BeginWrite(flow, "hello"u8.ToArray(), close: false);
        lock (_queue.Lock)
        {
            _queue.EnqueueControlLocked(new HealthCheckRequest(7));
            _ledger.QueueReleaseLocked(4, 512);
        }

        await writer.KickAsync();

        var messages = Assert.Single(Records());
        Assert.Collection(messages,
            m => Assert.Equal(new FlowCredit(4, 512), Assert.Single(Assert.IsType<Release>(m).Credits)),
            m => Assert.Equal(7UL, Assert.IsType<HealthCheckRequest>(m).Nonce),
            m => Assert.Equal("hello"u8.ToArray(), Assert.IsType<Data>(m).Payload.ToArray()));
        Assert.Equal(5, _counters.BytesSent);
        Assert.Equal(1, _host.DataSent);
    }

    [Fact]
    public async Task FlowsTakeTurnsAnMtuAtATime()
    {
        var writer = NewWriter(remoteMtu: 8 * 1024);
        var a = _flows.NewFlow(2, isLocal: false, credit: 1 << 20);
        var b = _flows.NewFlow(4, isLocal: false, credit: 1 << 20);
        _queue.BeginWrite(a, new byte[64 * 1024], close: false);
        _queue.BeginWrite(b, new byte[64 * 1024], close: false);

        await writer.KickAsync();

        var order = Records().SelectMany(r => r).OfType<Data>().Select(d => (d.FlowId, Length: (int)d.Payload.Length)).ToList();
        Assert.All(order, chunk => Assert.InRange(chunk.Length, 1, 8 * 1024));
        Assert.Equal(64 * 1024, order.Where(c => c.FlowId == 2).Sum(c => c.Length));
        Assert.Equal(64 * 1024, order.Where(c => c.FlowId == 4).Sum(c => c.Length));
        for (var i = 1; i < order.Count; i++)
        {
            Assert.NotEqual(order[i - 1].FlowId, order[i].FlowId);
        }
    }

    [Fact]
    public async Task BulkRecordsAreFlushedInBatchesAndAShortWriteAtOnce()
    {
        var writer = NewWriter();
        writer.Start();
        var bulk = _flows.NewFlow(2, isLocal: false, credit: 1 << 20);
        _queue.BeginWrite(bulk, new byte[1 << 20], close: false);
        await writer.KickAsync();

        // Inline, the writing application builds a quarter MiB and flushes; the loop builds the rest and flushes once.
        await ConnectionTestKit.WaitUntilAsync(() => _framed.Flushes >= 2);
        var frames = _framed.Frames.Count;
        Assert.True(frames >= 16);
        Assert.True(_framed.Flushes < frames / 2, $"{_framed.Flushes} flushes for {frames} records");

        var flushes = _framed.Flushes;
        var message = _flows.NewFlow(4, isLocal: false, credit: 1000);
        _queue.BeginWrite(message, new byte[100], close: false);
        await writer.KickAsync();
        await message.Send.WaitForWriteAsync().AsTask().WaitAsync(ConnectionTestKit.TestTimeout);
        await ConnectionTestKit.WaitUntilAsync(() => _framed.Flushes > flushes);
        Assert.Equal(frames + 1, _framed.Frames.Count);
        Assert.Equal(flushes + 1, _framed.Flushes);
    }

    [Fact]
    public async Task ANewFlowAnnouncesItsWindowAndSpendsSharedCreditUntilAcknowledged()
    {
        var writer = NewWriter();
        var local = _flows.NewFlow(1, isLocal: true);
        _queue.BeginWrite(local, new byte[1000], close: false);

        await writer.KickAsync();

        var open = Assert.IsType<OpenFlow>(Assert.Single(Assert.Single(Records())));
        Assert.Equal(1UL, open.FlowId);
        Assert.Equal((ulong)local.ReceiveWindow, open.InitialCredit);
        Assert.Equal(1000, open.Payload.Length);
        lock (_queue.Lock)
        {
            Assert.Equal(256 * 1024 - 1000, _ledger.SharedSendCreditLocked);
        }
    }

    [Fact]
    public async Task AMessageThatDoesNotFitTheRecordGoesFirstInTheNext()
    {
        var writer = NewWriter();
        var bulk = _flows.NewFlow(2, isLocal: false, credit: 1 << 20);
        var message = _flows.NewFlow(4, isLocal: false, credit: 1 << 20);
        message.Send.DisableFragmentation();
        writer.Start();
        _queue.BeginWrite(bulk, new byte[4000], close: false);
        _queue.BeginWrite(message, new byte[64 * 1024], close: false);

        await writer.KickAsync(); // the first record ends a short write: flushed at once, the loop writes the next
        await message.Send.WaitForWriteAsync().AsTask().WaitAsync(ConnectionTestKit.TestTimeout);
        await ConnectionTestKit.WaitUntilAsync(() => _framed.Flushes >= 2);

        var records = Records();
        Assert.Equal(2, records.Count);
        Assert.Equal(4000, Assert.IsType<Data>(Assert.Single(records[0])).Payload.Length);
        var whole = Assert.IsType<Data>(Assert.Single(records[1]));
        Assert.Equal(4UL, whole.FlowId);
        Assert.Equal(64 * 1024, whole.Payload.Length);
    }

    [Fact]
    public async Task AFlowWhosePeerFinishedIsDoneWhenItsCloseGoesOut()
    {
        var writer = NewWriter();
        var flow = _flows.NewFlow(2, isLocal: false, credit: 1000);
        var record = RecordBuffer.Rent(_counters, 1);
        Assert.True(flow.Deliver(record, 0, 0, close: true));
        record.Release();

        _queue.BeginWrite(flow, "bye"u8.ToArray(), close: true);
        await writer.KickAsync();

        var data = Assert.IsType<Data>(Assert.Single(Assert.Single(Records())));
        Assert.Equal(DataFlags.Close, data.Flags);
        Assert.Same(flow, Assert.Single(_host.Finished));
    }

    [Fact]
    public async Task TheTearDownIsTheLastRecordAndEndsTheLoop()
    {
        var writer = NewWriter();
        writer.Start();
        lock (_queue.Lock)
        {
            _queue.TryBeginClosingLocked(new TearDown(FlowErrorCode.Aborted, "bye"));
        }

        writer.Signal();
        await writer.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.IsType<TearDown>(Assert.Single(Records().Last()));
        Assert.Equal(0, _counters.RunningLoops);
        await writer.KickAsync(); // nothing more is ever written
        Assert.Single(Records());
    }

    [Fact]
    public async Task AFailedWriteIsReportedAndStopsTheWriter()
    {
        var writer = NewWriter();
        writer.Start();
        _framed.FailFlushes = new IOException("gone");
        lock (_queue.Lock)
        {
            _queue.EnqueueControlLocked(new HealthCheckRequest(1));
        }

        writer.Signal();

        await writer.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.IsType<IOException>(Assert.Single(_host.Failures));
    }

    /// <summary>The messages of every record written so far, decrypted.</summary>
    private List<List<Message>> Records()
    {
        var records = new List<List<Message>>();
        for (var i = _opened.Count; i < _framed.Frames.Count; i++)
        {
            var frame = _framed.Frames[i];
            var plaintext = new byte[frame.Length - RecordLayout.TagSize];
            _open.Open(frame, plaintext);
            var messages = new List<Message>();
            var input = new ReadOnlySequence<byte>(plaintext);
            while (!input.IsEmpty)
            {
                Assert.True(MessageCodec.TryRead(input, RecordLayout.MaxPlaintext, out var message, out var consumed));
                messages.Add(message);
                input = input.Slice(consumed);
            }

            _opened.Add(messages);
        }

        return _opened;
    }

    private readonly List<List<Message>> _opened = [];

    private sealed class Host : IRecordWriterHost
    {
        public int DataSent { get; private set; }

        public List<Flow> Finished { get; } = [];

        public List<Exception> Failures { get; } = [];

        public void OnDataSent() => DataSent++;

        public void OnFlowFinished(Flow flow) => Finished.Add(flow);

        public void OnWriteFailed(Exception error) => Failures.Add(error);
    }
}
