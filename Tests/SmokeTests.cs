using FlowOrleans.Transport;

namespace FlowOrleans.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void FlowExceptionCarriesCode()
    {
        var e = new FlowException(FlowErrorCode.BadArg, "x");
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
    }
}
