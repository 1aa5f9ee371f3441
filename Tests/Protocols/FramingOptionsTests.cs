using FlowOrleans.Transport;
using FlowOrleans.Transport.Protocols;

namespace FlowOrleans.Tests.Protocols;

/// <summary>Validation of framing limits and buffer thresholds.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FramingOptionsTests
{
    [Fact]
    public void DefaultsAreValidAndHoldTwoWholeFrames()
    {
        var options = new FramingOptions();
        options.Validate();
        Assert.Equal((1024 * 1024) + (4 * 1024), options.MaxFrameSize);
        Assert.Equal(2L * (options.MaxFrameSize + 4), options.EffectiveInputPauseThreshold);
        Assert.Equal(options.EffectiveInputPauseThreshold / 2, options.EffectiveInputResumeThreshold);
    }

    [Fact]
    public void DerivedThresholdsFollowTheFrameSize()
    {
        var options = new FramingOptions { MaxFrameSize = 8 * 1024 * 1024 };
        options.Validate();
        Assert.True(options.EffectiveInputPauseThreshold >= options.MaxFrameSize + FramingOptions.LengthPrefixSize);
    }

    public static TheoryData<string, FramingOptions> InvalidOptions => new()
    {
        { nameof(FramingOptions.MaxFrameSize), new FramingOptions { MaxFrameSize = (64 * 1024) + 1023 } },
        { nameof(FramingOptions.MaxFrameSize), new FramingOptions { MaxFrameSize = (64 * 1024 * 1024) + 1 } },
        { nameof(FramingOptions.InputPauseThreshold), new FramingOptions { InputPauseThreshold = FramingOptions.DefaultMaxFrameSize } },
        { nameof(FramingOptions.InputResumeThreshold), new FramingOptions { InputPauseThreshold = 4_000_000, InputResumeThreshold = 4_000_001 } },
        { nameof(FramingOptions.OutputPauseThreshold), new FramingOptions { OutputPauseThreshold = 0 } },
        { nameof(FramingOptions.OutputResumeThreshold), new FramingOptions { OutputPauseThreshold = 100, OutputResumeThreshold = 101 } },
        { nameof(FramingOptions.MinimumSegmentSize), new FramingOptions { MinimumSegmentSize = 100 } },
        { nameof(FramingOptions.DrainTimeout), new FramingOptions { DrainTimeout = TimeSpan.Zero } },
        { nameof(FramingOptions.ListenBacklog), new FramingOptions { ListenBacklog = 0 } },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void InvalidSettingsAreBadArgumentsNamingTheSetting(string setting, FramingOptions options)
    {
        FlowException e = Assert.Throws<FlowException>(options.Validate);
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
        Assert.Contains(setting, e.Message, StringComparison.Ordinal);

        // Protocols refuse them too, at construction.
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => new TcpProtocol(options)).Code);
    }

    [Fact]
    public async Task ProtocolsKeepTheirOwnCopy()
    {
        var options = new FramingOptions();
        var memory = new MemoryProtocol(options);
        options.MaxFrameSize = FramingOptions.MinimumMaxFrameSize;

        await using IProtocolListener listener = await memory.ListenAsync("memory", "svc", TestContext.Current.CancellationToken);
        await using IFramedConnection client = await memory.DialAsync("memory", "svc", TimeSpan.Zero, TestContext.Current.CancellationToken);
        Assert.Equal(FramingOptions.DefaultMaxFrameSize, client.MaxFrameSize);
    }
}
